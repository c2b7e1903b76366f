"""User Markdown to safe HTML: rendered with Python-Markdown, then sanitised by nh3.

Bare web addresses in the text ("see https://example.org/page.") become links, as people
paste them; the sanitiser then keeps only http, https and mailto links, marked
``rel="nofollow ugc noopener"``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

import markdown as md
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre",
    "h3", "h4", "a", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
LINK_REL = "nofollow ugc noopener"
MAX_INPUT = 20_000

# A web address standing on its own: http(s):// or www., not inside a word, an attribute
# or another address. \x02 and \x03 delimit Python-Markdown's placeholders; bidirectional
# controls would show an address other than the one linked.
BARE_URL = (r"(?<![\w/@.:=\"'&-])(?:https?://|www\.)"
            r"[^\s<>\"'`\x02\x03\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
# What ends a sentence, not the address: "see https://example.org." or "(https://x.org)".
_TRAILING = ".,;:!?'\"*_"
_CLOSERS = {")": "(", "]": "["}


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])):
            url = url[:-1]
        else:
            break
    return url


class _BareUrls(InlineProcessor):
    # Not inside a link (a Markdown link's own text) or code.
    ANCESTOR_EXCLUDES = ("a", "code", "pre")

    def handleMatch(  # type: ignore[override]
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element | None, int | None, int | None]:
        url = _trim(m.group(0))
        if not re.match(r"(?:https?://|www\.)[^./]+\.", url, re.IGNORECASE):
            return None, None, None  # "http://" alone, or no domain with a dot
        link = etree.Element("a")
        link.set("href", url if not url.lower().startswith("www.") else f"https://{url}")
        link.text = AtomicString(url)
        return link, m.start(0), m.start(0) + len(url)


class BareUrlExtension(Extension):
    def extendMarkdown(self, md: md.Markdown) -> None:
        # After inline HTML (90), before entities (80) and emphasis (60): an address with
        # underscores is not read as emphasis.
        md.inlinePatterns.register(_BareUrls(BARE_URL, md), "bare_url", 85)


def render_markdown(text: str | None) -> Markup:
    """Markdown as HTML that can be put in a page: no script, no style, no raw HTML tricks,
    links only to http(s) and mailto, marked ``nofollow ugc``; bare addresses linked."""
    if not text:
        return Markup("")
    html = md.markdown(text[:MAX_INPUT], extensions=["sane_lists", BareUrlExtension()],
                       output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def one_full_stop(text: str) -> str:  # Markup in, Markup out
    """A sentence that ends with a name ending in a full stop ("Welcome, Sofie M..") ends
    with one full stop: the abbreviation's point ends the sentence too. An ellipsis stays."""
    if text.endswith("..") and not text.endswith("..."):
        return type(text)(text[:-1])
    return text
