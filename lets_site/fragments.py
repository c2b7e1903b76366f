"""Pieces of HTML kept per process when they are the same for everyone in an audience.

A list page's results and search form (the offers list) and the home page's panels of
news, offers and events are the same HTML for every reader with the same roles, the same
language and the same URL; only a few marks depend on who reads them (a member sees
their own postcode even when they hide it from others). :func:`fragment` renders such a
piece once per process and keeps it until

- any process commits a write: the generation of :func:`lets_site.settings.shared`
  (the page cache's generation file), so a new, changed or withdrawn listing shows at
  once in every worker;
- the next lapse: something shown stops being shown without a write (a listing's end
  date passes, an event starts or ends). Features name that moment through the contract
  (``Feature.lapses``, :func:`lets_site.features.next_lapse`); the pieces that depend on
  it pass ``lapses``;
- or it is pushed out: the store keeps at most ``FRAGMENT_CACHE_ENTRIES`` pieces and
  ``FRAGMENT_CACHE_BYTES`` characters (the least recently used go first).

Marks that depend on the viewer are left in the kept HTML as placeholders
(:func:`viewer_mark`) and filled in per request (:func:`fill_marks`): cheap, and the kept
piece never holds one viewer's view. A request whose own transaction has unsaved or
uncommitted writes neither reads nor fills the store.

Base layer: imports no feature.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_app_context, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from lets_site import features
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.settings import _GENERATION_KEY, cached
from lets_site.web.pagecache import GENERATION_FILE, read_generation, session_wrote

_STORE = "lets_fragment_cache"  # in app.extensions
_RENDERING = "lets_fragment_marks"  # in g: the marks of the piece being rendered
# A placeholder the kept HTML carries for a viewer's mark: NUL never reaches a page
# (forms refuse control characters), and the token is this process's own.
_TOKEN = secrets.token_hex(4)
_MARK = "\x00" + _TOKEN + ":{}\x00"

DEFAULT_ENTRIES = 256
DEFAULT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Mark:
    """A mark only one member sees: ``html`` for the member ``member_id``, nothing for
    everyone else."""

    member_id: int
    html: Markup


@dataclass
class _Piece:
    html: str
    marks: tuple[Mark, ...]
    expires: datetime | None


@dataclass
class _Store:
    generation: tuple[int, int] | None = None
    pieces: OrderedDict[Hashable, _Piece] = field(default_factory=OrderedDict)
    size: int = 0
    lapse: datetime | None = None
    lapse_known: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        self.pieces.clear()
        self.size = 0
        self.lapse_known = False

    def drop(self, key: Hashable) -> None:
        piece = self.pieces.pop(key, None)
        if piece is not None:
            self.size -= len(piece.html)


def audience() -> str:
    """Whose view a shared piece is: "visitor", or "member" or "admin" (admins see every
    contact detail) with the member's roles ("member:member+organiser"). Logged-in members
    are active (lets_site/members/services.py)."""
    if not current_user or not current_user.is_authenticated:
        return "visitor"
    who = "admin" if current_user.is_admin else "member"
    return f"{who}:{'+'.join(sorted(current_user.roles))}"


def viewer_mark(member_id: int | None, html: Markup, shown: bool) -> Markup:
    """``html`` as the current viewer should see it: when a shared piece is being
    rendered, a placeholder that :func:`fill_marks` turns into ``html`` for the member
    ``member_id`` only (or ``html`` itself when ``shown`` says the whole audience sees it);
    else ``html`` when ``shown`` or when the viewer is that member."""
    if shown:
        return html
    marks: list[Mark] | None = g.get(_RENDERING) if has_app_context() else None
    if marks is None:
        viewer_id = current_user.id if current_user and current_user.is_authenticated else None
        return html if member_id is not None and viewer_id == member_id else Markup()
    if member_id is None:
        return Markup()
    marks.append(Mark(member_id, html))
    return Markup(_MARK.format(len(marks) - 1))  # noqa: S704 - a constant placeholder


def fill_marks(html: str, marks: tuple[Mark, ...]) -> Markup:
    """The kept HTML (a rendered template) with each placeholder filled for the current
    viewer (each mark's HTML is Markup: escaped when it was made)."""
    if marks:
        viewer_id = current_user.id if current_user and current_user.is_authenticated else None
        for n, mark in enumerate(marks):
            html = html.replace(_MARK.format(n), mark.html if mark.member_id == viewer_id else "")
    return Markup(html)  # noqa: S704 - the output of an autoescaping template


def _store() -> _Store:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store: _Store | None = app.extensions.get(_STORE)
    if store is None:
        store = app.extensions.setdefault(_STORE, _Store())
    return store


def fragment(key: Hashable, render: Callable[[], str], *,
             lapses: Callable[[], datetime | None] | None = None) -> Markup:
    """The HTML ``render()`` gives, kept per process under ``key`` (which must name
    everything the HTML depends on but the viewer's marks: the audience, the language,
    the arguments). ``lapses()`` returns when something shown stops being shown without a
    write (None: never); it is asked once per generation and again when that moment
    passes. Without an app context, or with this request's own writes pending, the piece
    is rendered and not kept."""
    config = current_app.config if has_app_context() else {}
    if not has_app_context() or not config.get("FRAGMENT_CACHE", True):
        return _uncached(render)
    session = db.session()
    if session_wrote(session) or session.new or session.dirty or session.deleted:
        return _uncached(render)
    store = _store()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Read before rendering: a piece rendered after a commit elsewhere is at worst redone.
    generation: tuple[int, int] = cached(
        _GENERATION_KEY, lambda: read_generation(Path(app.instance_path) / GENERATION_FILE))
    now = utcnow()
    with store.lock:
        if store.generation != generation:
            store.clear()
            store.generation = generation
        piece = store.pieces.get(key)
        if piece is not None and (piece.expires is None or now < piece.expires):
            store.pieces.move_to_end(key)
            return fill_marks(piece.html, piece.marks)
        store.drop(key)
        lapse_known, lapse = store.lapse_known, store.lapse
    if lapses is not None and (not lapse_known or (lapse is not None and now >= lapse)):
        lapse = lapses()
        with store.lock:
            if store.generation == generation:
                store.lapse, store.lapse_known = lapse, True
    raw, marks = _render(render)
    if not session_wrote(session):
        with store.lock:
            if store.generation == generation:
                store.drop(key)
                store.pieces[key] = _Piece(raw, marks, lapse if lapses is not None else None)
                store.size += len(raw)
                entries = int(config.get("FRAGMENT_CACHE_ENTRIES", DEFAULT_ENTRIES))
                limit = int(config.get("FRAGMENT_CACHE_BYTES", DEFAULT_BYTES))
                while store.pieces and (len(store.pieces) > entries or store.size > limit):
                    store.drop(next(iter(store.pieces)))
    return fill_marks(raw, marks)


def _uncached(render: Callable[[], str]) -> Markup:
    raw, marks = _render(render)
    return fill_marks(raw, marks)


def _render(render: Callable[[], str]) -> tuple[str, tuple[Mark, ...]]:
    """``render()``'s HTML with the placeholders of its viewer marks, and the marks."""
    if not has_app_context() or g.get(_RENDERING) is not None:
        return str(render()), ()  # inside a piece being kept: its marks are the outer's
    marks: list[Mark] = []
    setattr(g, _RENDERING, marks)
    try:
        raw = str(render())
    finally:
        g.pop(_RENDERING, None)
    return raw, tuple(marks)


def forget_fragments() -> None:
    """Empty this process's pieces (tests; the next reads render them again)."""
    if has_app_context():
        store = current_app.extensions.get(_STORE)
        if store is not None:
            with store.lock:
                store.clear()




# --- The layout: the menu and the shared panels of the header and the footer -------------------

# In the kept menu, where each request's own CSRF token goes (the log-out form).
_CSRF_SLOT = "\x00" + _TOKEN + ":csrf\x00"


def init_app(app: Flask) -> None:
    """``layout_menu_html()`` and ``layout_place(place)`` for ``base.html``: the menu and
    the panels of a layout place, the shared ones (``Panel.shared``) kept per process."""

    @app.context_processor
    def layout() -> dict[str, Any]:
        return {"layout_menu_html": _menu_html, "layout_place": _place}


def _layout_key(name: str) -> tuple[str, ...]:
    return (name, audience(), str(get_locale()), request.script_root)


def _menu_html() -> Markup:
    """The main menu's items for this viewer (links by audience, labels in the page's
    language), kept per process; a log-out form gets this request's CSRF token."""
    html = fragment(_layout_key("layout.menu"), lambda: render_template(
        "_layout_menu.html", links=features.menu_links(_viewer()), csrf_slot=_CSRF_SLOT))
    if _CSRF_SLOT in html:
        html = Markup(html.replace(_CSRF_SLOT, generate_csrf()))  # noqa: S704 - a token
    return html


def _place(place: str) -> list[tuple[str | None, Any]]:
    """(template, data) for each panel of a layout place that has something to show; a
    shared one as (None, its HTML)."""
    viewer = _viewer()
    shown: list[tuple[str | None, Any]] = []
    for panel in features.offered_panels(place):
        if not panel.shared:
            data = panel.data(None, viewer)
            if data is not None:
                shown.append((panel.template, data))
            continue
        html = fragment((*_layout_key("layout.panel"), panel.template),
                        partial(_render_panel, panel, viewer))
        if html:
            shown.append((None, html))
    return shown


def _render_panel(panel: features.Panel, viewer: Any) -> str:
    data = panel.data(None, viewer)
    return "" if data is None else render_template(panel.template, panel=data)


def _viewer() -> Any:
    return current_user if current_user and current_user.is_authenticated else None
