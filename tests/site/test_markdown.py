from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from lets_site.web.text import render_markdown


def test_markdown_keeps_formatting() -> None:
    html = str(render_markdown("**vet** en *schuin*\n\n- een\n- twee"))
    assert "<strong>vet</strong>" in html and "<li>een</li>" in html


def test_markdown_removes_script_style_and_event_handlers() -> None:
    html = str(render_markdown(
        '<script>alert(1)</script><style>body{}</style><img src=x onerror="alert(1)">'
        '<a href="javascript:alert(1)">x</a> [y](javascript:alert(2))'
    ))
    for bad in ("<script", "alert(1)</script>", "<style", "onerror", "javascript:", "<img"):
        assert bad not in html


def test_markdown_links_are_nofollow() -> None:
    html = str(render_markdown("[site](https://example.org)"))
    assert 'href="https://example.org"' in html and "nofollow" in html


def test_empty_markdown_is_empty() -> None:
    assert str(render_markdown(None)) == "" and str(render_markdown("")) == ""


# --- Bare web addresses become links, safely -----------------------------------------------


def _links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]*)" rel="([^"]*)">', html)


def test_bare_addresses_become_nofollow_ugc_links() -> None:
    html = str(render_markdown(
        "Zie https://example.org/a_b_c?x=1&y=2. Of (https://nl.wikipedia.org/wiki/Ruil_(a))"
        " en www.lets.be!"))
    assert _links(html) == [
        ("https://example.org/a_b_c?x=1&amp;y=2", "nofollow ugc noopener"),
        ("https://nl.wikipedia.org/wiki/Ruil_(a)", "nofollow ugc noopener"),
        ("https://www.lets.be", "nofollow ugc noopener"),
    ]
    # The sentence's full stop, closing bracket and exclamation mark stay text.
    assert "y=2</a>. Of" in html and "Ruil_(a)</a>)" in html and "www.lets.be</a>!" in html
    assert "<em>" not in html  # underscores in an address are not emphasis


def test_addresses_in_links_and_code_are_left_alone() -> None:
    html = str(render_markdown("[de site](https://example.org) `https://code.example`\n\n"
                               "    https://block.example"))
    assert _links(html) == [("https://example.org", "nofollow ugc noopener")]
    assert "<code>https://code.example</code>" in html
    assert "https://block.example" in html


@pytest.mark.parametrize("hostile", [
    'https://"><script>alert(1)</script>',
    "https://example.org/\"onmouseover=\"alert(1)",
    "https://example.org/<img src=x onerror=alert(1)>",
    "javascript:alert(1)//https://example.org",
    "www.example.org/'><svg onload=alert(1)>",
    "data:text/html;base64,PHNjcmlwdD4= https://ok.example",
    "[x](javascript:alert(1)) https://ok.example",
    "https://ex\u202eample.org/&quot;&lt;script&gt;",
    "https://example.org/\u202egpj.exe",
])
def test_linkify_with_hostile_input_stays_safe(hostile: str) -> None:
    html = str(render_markdown(hostile))
    tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, attrs))

    Collect().feed(html)
    # Only the sanitiser's tags; links carry only href and rel, to http(s) addresses;
    # anything else the input tried is text.
    assert {tag for tag, _attrs in tags} <= {"p", "a", "code"}, html
    for tag, attrs in tags:
        if tag == "a":
            values = dict(attrs)
            # A link whose address the sanitiser refused keeps no href: inert text.
            assert set(values) <= {"href", "rel"}, html
            assert (values.get("href") or "https://").startswith(("https://", "http://"))
            assert values["rel"] == "nofollow ugc noopener"
        else:
            assert attrs == [], html
    assert "<script" not in html
    # No link text turned around by a bidirectional control character.
    assert not any("\u202e" in href for href in re.findall(r'href="([^"]*)"', html))
