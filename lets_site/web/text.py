"""User Markdown to safe HTML: rendered with Python-Markdown, then sanitised by nh3."""

from __future__ import annotations

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre",
    "h3", "h4", "a", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
MAX_INPUT = 20_000


def render_markdown(text: str | None) -> Markup:
    """Markdown as HTML that can be put in a page: no script, no style, no raw HTML tricks,
    links only to http(s) and mailto, and marked ``nofollow``."""
    if not text:
        return Markup("")
    html = md.markdown(text[:MAX_INPUT], extensions=["sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def one_full_stop(text: str) -> str:  # Markup in, Markup out
    """A sentence that ends with a name ending in a full stop ("Welcome, Sofie M..") ends
    with one full stop: the abbreviation's point ends the sentence too. An ellipsis stays."""
    if text.endswith("..") and not text.endswith("..."):
        return type(text)(text[:-1])
    return text
