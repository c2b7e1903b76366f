"""Read one element of a page, so an assertion cannot be met by the header, the menu or the
footer (the header shows the reader's balance and name on every page).

``select_text(page, "#statement")`` gives the text of the first element matching a simple
selector: ``#id``, ``tag``, ``.class`` or ``tag.class``. ``main_text(page)`` is the text of
``<main>``. ``page`` is a response or an HTML string. Text is whitespace-normalised.
Standard library only (html.parser)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                  "meta", "param", "source", "track", "wbr"})


def _html(page: Any) -> str:
    return page if isinstance(page, str) else page.get_data(as_text=True)


def _matches(selector: str, tag: str, attrs: dict[str, str | None]) -> bool:
    if selector.startswith("#"):
        return attrs.get("id") == selector[1:]
    name, _, cls = selector.partition(".")
    if name and name != tag:
        return False
    return not cls or cls in (attrs.get("class") or "").split()


class _Finder(HTMLParser):
    def __init__(self, selector: str) -> None:
        super().__init__(convert_charrefs=True)
        self.selector = selector
        self.depth = 0  # open elements inside the match, the match included
        self.found = False
        self.done = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if self.depth:
            if tag not in VOID:
                self.depth += 1
            self.parts.append(" ")
        elif _matches(self.selector, tag, dict(attrs)):
            self.found = True
            if tag in VOID:
                self.done = True
            else:
                self.depth = 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.parts.append(" ")
        elif not self.done and _matches(self.selector, tag, dict(attrs)):
            self.found = self.done = True

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID:
            self.depth -= 1
            self.parts.append(" ")
            if not self.depth:
                self.done = True

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def find(page: Any, selector: str) -> str | None:
    """The text of the first element matching ``selector``, or None when there is none."""
    finder = _Finder(selector)
    finder.feed(_html(page))
    finder.close()
    if not finder.found:
        return None
    return " ".join("".join(finder.parts).split())


def select_text(page: Any, selector: str) -> str:
    """The text of the first element matching ``selector``; fails the test when the page
    has none."""
    text = find(page, selector)
    assert text is not None, f"no element {selector!r} on the page"
    return text


def main_text(page: Any) -> str:
    """The text of the page's ``<main>``: what the page says, without header and footer."""
    return select_text(page, "main")
