from __future__ import annotations

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
