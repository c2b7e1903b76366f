"""The feature contract: how a feature plugs into the site.

Each feature describes itself once, in ``lets_site/<feature>/feature.py``, as a
:class:`Feature` built from the plain records below; ``wiring.py`` keeps the list of
features and :func:`install` binds them to an app. The descriptions live in
``app.extensions["lets_features"]`` (no module globals), so two apps in one process (tests)
can carry different features.

Pages ask the questions at the bottom of this module (:func:`menu_links`,
:func:`admin_links`, :func:`panels`, :func:`items`, :func:`export_sections`,
:func:`account_code_taken`, :func:`audit_actions`); none of them knows a feature by name.

This module belongs to the base layer: it imports no feature.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import click
from flask import Blueprint, Flask, current_app, has_request_context, url_for
from flask.cli import AppGroup
from flask_login import current_user

from lets_site.mail import external_url
from lets_site.web.urls import cached_url_for

EXTENSION_KEY = "lets_features"

# Who sees a menu link.
EVERYONE = "everyone"
VISITORS = "visitors"  # only who is not logged in (join, log in)
MEMBERS = "members"
ADMINS = "admins"
AUDIENCES = (EVERYONE, VISITORS, MEMBERS, ADMINS)

# Places that offer room for panels. A page that is a place asks for its panels in its view
# (``panels(place, subject, viewer)``) and includes what comes back; the layout asks for
# "header" and "footer" (every page renders it). Later features add their own places.
HOME = "home"
HEADER = "header"
FOOTER = "footer"
PROFILE = "profile"
ORGANISATION = "organisation"
# A listing's page (offers and wants): the subject is the listing, which has ``id``,
# ``title``, ``kind`` ("offer" or "want") and ``owner_account_code``; the page asks only
# where the viewer may answer the listing (live, not their own).
LISTING = "listing"
# One line per member in the member directory: the subject is the list of members on the
# page, and the panel's template is included in each line with ``m`` set to that member
# (one query for the page, not one per line).
DIRECTORY = "directory"
PARTNER = "partner"  # a partner's page (the partners feature); events will offer theirs
# An event's page (the events feature): the subject is the event, which has ``urn`` (its
# item id), ``title``, ``kind`` ("book_swap" ...), ``status``, ``starts_at``, ``ends_at``,
# ``is_past()``, ``partner_list()`` and ``can_edit(viewer)`` / ``can_view(viewer)``.
EVENT = "event"
# The admin's page of one member (/admin/members/<id>): the subject is the member.
MEMBER_ADMIN = "member_admin"
# The events feature's list of coming events (/events/), under the list: the subject is
# None (the federation shows the neighbouring groups' coming events there).
EVENTS = "events"
# The contact scripts other groups share (docs/partners.md), for the partners' scripts page
# (/partners/scripts) to offer for import: not a page's panel but the subjects a feature
# holds (the federation fetches them from the groups it follows). A subject has ``ref``
# (str, what ``find_subject`` takes back), ``group_name``, ``group_url``, ``source_url``
# (the group's published document), ``language``, ``title``, ``subject``, ``body`` (the
# script as its group wrote it, placeholders unfilled) and ``preview_url``.
# ``coming_subjects(SHARED_SCRIPTS, viewer, language or "", limit)`` lists them by group,
# language and title.
SHARED_SCRIPTS = "shared_scripts"

# Visibility of an item.
PUBLIC = "public"
MEMBERS_ONLY = "members"

DEFAULT_ITEMS_LIMIT = 20


@dataclass(frozen=True)
class MenuLink:
    """An entry of the main menu. ``post`` makes it a small form (log out)."""

    endpoint: str
    label: Any
    audience: str = EVERYONE
    order: int = 50
    values: Mapping[str, Any] = field(default_factory=dict)
    post: bool = False
    # Shown only while this answers True (None: always), e.g. the common agenda once the
    # site follows other groups. Asked on every page: keep the answer free of queries.
    when: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown audience {self.audience!r}")

    @property
    def url(self) -> str:
        return cached_url_for(self.endpoint, **self.values)


@dataclass(frozen=True)
class AdminLink:
    """An entry of the admin index. ``count`` (optional) is shown beside it, e.g. the
    number of candidates waiting."""

    endpoint: str
    label: Any
    order: int = 50
    values: Mapping[str, Any] = field(default_factory=dict)
    count: Callable[[], int] | None = None

    @property
    def url(self) -> str:
        return cached_url_for(self.endpoint, **self.values)


@dataclass(frozen=True)
class Panel:
    """A partial a feature offers to a place on somebody else's page.

    ``data(subject, viewer)`` returns the partial's data (a mapping, given to the template
    as ``panel``) or None to show nothing. ``subject`` is what the page is about (the
    organisation on its page; None on the home page), ``viewer`` the logged-in member or
    None."""

    place: str
    template: str
    data: Callable[[Any, Any], Mapping[str, Any] | None]
    order: int = 50
    # True when the partial's HTML depends on the viewer only through their roles (and on
    # the language and the data): a page may keep it per process (lets_site/fragments.py)
    # until a write, or until the moment the features' ``lapses`` name.
    shared: bool = False


@dataclass(frozen=True)
class ExportSection:
    """A part of a member's data download: ``build(member)`` returns plain JSON values."""

    name: str
    build: Callable[[Any], Any]


@dataclass(frozen=True)
class Item:
    """One piece of content, the same shape for every feature: what the home page's "new on
    the site", the e-mail digest and the federation feed read."""

    id: str  # stable across renames, e.g. "urn:lets:listing:12"
    kind: str  # "offer", "want", "organisation", "event" ...
    title: str
    url: str
    visibility: str  # PUBLIC or MEMBERS_ONLY
    created: datetime
    updated: datetime
    start: datetime | None = None  # dated things (events)
    # What else a feed may carry, as plain JSON values (events: time zone, end, status,
    # partners, revision); empty for most features.
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoGroup:
    """Who the demo group is: the default is LETS Ieper. ``lets-site demo --federation``
    seeds three groups from the same steps with other values here: name, place, the
    members' languages (the first is the site's default) and the events' dates moved by
    ``day_shift`` days."""

    name: str = "LETS Ieper"
    slug: str = "lets-ieper"
    locality: str = "Ieper"
    postcode: str = "8900"
    region: str = "West-Vlaanderen"
    languages: tuple[str, ...] = ("nl",)
    day_shift: int = 0
    seed: int = 8900


@dataclass
class DemoContext:
    """Shared by the demo steps, run in order: a seeded random generator, what earlier
    steps made (``made["members"]``...), the logins to print, and which group it is."""

    rng: random.Random
    made: dict[str, Any] = field(default_factory=dict)
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    group: DemoGroup = field(default_factory=DemoGroup)


@dataclass(frozen=True)
class DemoStep:
    order: int
    run: Callable[[DemoContext], None]


@dataclass(frozen=True)
class Linkable:
    """Things of one ``kind`` ("event") that another feature may name without importing
    the feature that has them.

    By row id, for a select and a link (a collaboration names the event it came from):
    ``choices(viewer, limit)`` gives (id, Item) pairs the viewer may see, newest first;
    ``find(ids, viewer)`` gives {id: Item} for those of ``ids`` that exist and the viewer
    may see. The one who names a thing keeps only its id (a foreign key with ON DELETE SET
    NULL), so a deleted thing leaves no broken link.

    By stable item id, as the subject of the place of the same name (the EVENT place's
    panels get the event): ``subject(item_id)`` returns it or None; ``coming(viewer, tag,
    limit)`` those tagged ``tag`` (an event's kind) not over yet that the viewer may see,
    soonest first. The caller only reads them (the place's attributes). A kind reached
    only one way leaves the other pair out (the contact scripts other groups share have
    no row here, only an item id)."""

    kind: str
    choices: Callable[[Any, int], Sequence[tuple[int, Item]]] | None = None
    find: Callable[[Collection[int], Any], Mapping[int, Item]] | None = None
    subject: Callable[[str], Any] | None = None
    coming: Callable[[Any, str, int], Sequence[Any]] | None = None


@dataclass(frozen=True)
class GroupField:
    """An optional field a feature adds to the group block of the site's feed
    (``_lets.group``, docs/feed.md), e.g. the partners' shared contact scripts.

    ``value()`` returns (the field's value, or None to leave the field out; when it last
    changed, or None if never): the feed's Last-Modified counts the change, so that a
    reader sending only If-Modified-Since sees the field come and go."""

    name: str
    value: Callable[[], tuple[Any, datetime | None]]


# --- Moving: the full export ---------------------------------------------------------------


@dataclass(frozen=True)
class Portable:
    """What a feature carries into the site's full export (``lets_site/portable.py``) and
    loads back from it when a site moves.

    ``tables``: its models (or tables), parents before children. ``secret_columns``:
    per table name, columns never exported (a session token, a link's token hash); the
    loader leaves them to their column default (a new token) or NULL. ``skip_rows``: per
    table name, a function returning a WHERE clause of rows left out. ``left_out``: its
    tables deliberately not exported, each with the reason (caches, throttling, secrets).
    ``files``: folders under ``instance/uploads`` it keeps files in (photos, logos,
    covers, documents); the export carries them beside the document."""

    tables: Sequence[Any] = ()
    secret_columns: Mapping[str, Sequence[str]] = field(default_factory=dict)
    skip_rows: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    left_out: Mapping[str, str] = field(default_factory=dict)
    files: Sequence[str] = ()


# --- Notifications ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One reminder a kind's ``due(now)`` found: the mail to queue for ``recipient`` (a
    Member), sent at most once per ``(kind, once)``."""

    recipient: Any
    subject: Any
    template: str
    once: str
    context: Mapping[str, Any] = field(default_factory=dict)
    reply_to: str | None = None


@dataclass(frozen=True)
class NotificationKind:
    """A kind of mail members can switch on or off (their profile's notification page;
    the group's defaults on the admin's). ``audience`` is MEMBERS or ADMINS (only admins
    receive it). ``due(now)``, for reminders, returns the :class:`Notice` records whose
    time has come; the daily command (``lets-site notify due``) sends each once."""

    key: str  # "<feature>.<what>", e.g. "ledger.payment_received"
    label: Any
    audience: str = MEMBERS
    default: bool = True
    due: Callable[[datetime], Iterable[Notice]] | None = None
    # Narrower than the audience: receives(member) -> bool (say, partner coordinators).
    receives: Callable[[Any], bool] | None = None

    def __post_init__(self) -> None:
        if self.audience not in (MEMBERS, ADMINS):
            raise ValueError(f"unknown audience {self.audience!r}")


# The extension key under which a feature (notifications) answers "does this member want
# this kind of mail?": a callable (member, key) -> bool. Without one, every mail is sent.
NOTIFICATION_SWITCH_KEY = "lets_notification_switch"
# The feature that flags refused addresses answers whether a member's address is flagged.
ADDRESS_FLAG_KEY = "lets_address_flagged"


# items(viewer, limit): the feature's newest content this viewer (None: the public) may see,
# newest first, at most ``limit``.
ItemsFunction = Callable[[Any, int], Iterable[Item]]


@dataclass(frozen=True)
class Feature:
    """What one feature brings. Everything but ``name`` is optional."""

    name: str
    blueprint: Blueprint | None = None
    menu: Sequence[MenuLink] = ()
    admin: Sequence[AdminLink] = ()
    panels: Sequence[Panel] = ()
    demo: DemoStep | None = None
    export: ExportSection | None = None
    # is_taken(code) -> bool for the account codes this feature hands out (codes.py).
    account_codes: Callable[[str], bool] | None = None
    # Click commands or groups from <feature>/commands.py, added to ``lets-site``.
    commands: Sequence[click.Command] = ()
    items: ItemsFunction | None = None
    # The label (lazy gettext, a plural heading: "Offers") of each item kind it publishes:
    # {"offer": _l("Offers")}. The digest and the paper lists head each kind with it.
    item_kinds: Mapping[str, Any] = field(default_factory=dict)
    # True when two logged-in members with the same roles may get different items from
    # ``items`` (content addressed to one member): readers of many members' items (the
    # digest) then ask once per member instead of once per set of roles.
    personal_items: bool = False
    # Anything else the feature binds to the app (template filters of its own templates).
    setup: Callable[[Flask], None] | None = None
    # The audit log's actions this feature records, each with its label (lazy gettext), a
    # short sentence, shown next to who did it: {"member.approve": _l("Approved a member")}.
    audit_actions: Mapping[str, Any] = field(default_factory=dict)
    # What other features may name by id or as a place's subject (Linkable).
    linkables: Sequence[Linkable] = ()
    # The kinds of mail this feature sends that members may switch off.
    notifications: Sequence[NotificationKind] = ()
    # check() -> problems found in the feature's data (empty: all well), e.g. the ledger's
    # `lets-site ledger check`; backups run it against their copy (lets_site/backups.py).
    check: Callable[[], list[str]] | None = None
    # The tables (and upload folders) it carries into the full export; None: it has none.
    portable: Portable | None = None
    # lapses() -> when the next of this feature's shown content stops being shown without
    # a write (a listing's end date, an event's start or end); None: nothing will. Pages
    # that keep HTML per process expire it then (lets_site/fragments.py).
    lapses: Callable[[], datetime | None] | None = None
    # Optional fields of the feed's group block (GroupField).
    group_fields: Sequence[GroupField] = ()


class Registry:
    """The features of one app, in the order they were listed."""

    def __init__(self, features: Iterable[Feature]) -> None:
        self.features: list[Feature] = []
        for feature in features:
            if any(f.name == feature.name for f in self.features):
                raise ValueError(f"feature {feature.name!r} listed twice")
            self.features.append(feature)

    def names(self) -> list[str]:
        return [f.name for f in self.features]


def _add_command(app: Flask, command: click.Command) -> None:
    """Add a feature's command to ``lets-site``. Groups of the same name from several
    features become one group of this app (``lets-site federation``: the feed's keygen and
    the aggregator's commands); the features' own group objects are left as they are. Any
    other clash of names is a mistake."""
    name = command.name or ""
    existing = app.cli.commands.get(name)  # type: ignore[attr-defined]
    if existing is None:
        app.cli.add_command(command)
        return
    if not (isinstance(existing, click.Group) and isinstance(command, click.Group)):
        raise RuntimeError(f"two features bring a command named {name!r}")
    clash = set(existing.commands) & set(command.commands)
    if clash:
        raise RuntimeError(f"two features bring the command {name} {sorted(clash)[0]}")
    merged = AppGroup(name, help=existing.help)
    for sub_name, sub in (*existing.commands.items(), *command.commands.items()):
        merged.add_command(sub, sub_name)
    app.cli.add_command(merged)


def install(app: Flask, features: Iterable[Feature]) -> Registry:
    """Bind the features to the app: blueprints, commands, setup hooks, and the layout's
    questions (``layout_menu()``, ``layout_panels(place)``) for ``base.html``."""
    registry = Registry(features)
    app.extensions[EXTENSION_KEY] = registry
    for feature in registry.features:
        if feature.blueprint is not None:
            app.register_blueprint(feature.blueprint)
        for command in feature.commands:
            _add_command(app, command)
        if feature.setup is not None:
            feature.setup(app)

    # The layout is part of every page, so it asks for its own links and panels (header,
    # footer) when base.html renders; partials that do not extend it never ask.
    @app.context_processor
    def layout() -> dict[str, Any]:
        return {"layout_menu": lambda: menu_links(_viewer()),
                "layout_panels": lambda place: panels(place, None, _viewer())}

    return registry


def _viewer() -> Any:
    return current_user if current_user and current_user.is_authenticated else None


def item_url(endpoint: str, **values: Any) -> str:
    """The URL of an item: a path inside a request, an absolute URL outside one (digest
    mails, feeds built by a command)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return external_url(endpoint, **values)


def registry(app: Flask | None = None) -> Registry:
    return (app or current_app).extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


# --- Questions pages ask --------------------------------------------------------------------


def _is_member(viewer: Any) -> bool:
    return viewer is not None and bool(getattr(viewer, "is_authenticated", False))


def _sees(audience: str, viewer: Any) -> bool:
    if audience == EVERYONE:
        return True
    if audience == VISITORS:
        return not _is_member(viewer)
    if audience == MEMBERS:
        return _is_member(viewer)
    return _is_member(viewer) and bool(getattr(viewer, "is_admin", False))


def menu_links(viewer: Any, app: Flask | None = None) -> list[MenuLink]:
    links = [link for f in registry(app).features for link in f.menu
             if _sees(link.audience, viewer) and (link.when is None or link.when())]
    return sorted(links, key=lambda link: link.order)


def admin_links(viewer: Any, app: Flask | None = None) -> list[tuple[AdminLink, int | None]]:
    """The admin index's entries with their counts; nothing for anyone but an admin."""
    if not _sees(ADMINS, viewer):
        return []
    links = sorted((link for f in registry(app).features for link in f.admin),
                   key=lambda link: link.order)
    return [(link, link.count() if link.count else None) for link in links]


def panels(place: str, subject: Any, viewer: Any,
           app: Flask | None = None) -> list[tuple[str, Mapping[str, Any]]]:
    """(template, data) for each panel offered to ``place`` that has something to show,
    in order. The page's view passes them to its template, which includes each template
    with ``panel`` set to its data."""
    shown = []
    for panel in offered_panels(place, app):
        data = panel.data(subject, viewer)
        if data is not None:
            shown.append((panel.template, data))
    return shown


def offered_panels(place: str, app: Flask | None = None) -> list[Panel]:
    """The panels offered to ``place``, in order."""
    return sorted((p for f in registry(app).features for p in f.panels if p.place == place),
                  key=lambda p: p.order)


def next_lapse(app: Flask | None = None) -> datetime | None:
    """The soonest moment any feature's shown content lapses without a write (None: no
    feature names one)."""
    moments = [moment for f in registry(app).features if f.lapses is not None
               for moment in [f.lapses()] if moment is not None]
    return min(moments, default=None)


def items(viewer: Any = None, limit: int = DEFAULT_ITEMS_LIMIT,
          app: Flask | None = None) -> list[Item]:
    """Every feature's content this viewer (None: the public) may see, newest first."""
    limit = max(0, limit)
    found: list[Item] = []
    for feature in registry(app).features:
        if feature.items is not None:
            found.extend(feature.items(viewer if _is_member(viewer) else None, limit))
    if not _is_member(viewer):
        found = [item for item in found if item.visibility == PUBLIC]
    found.sort(key=lambda item: (item.created, item.id), reverse=True)
    return found[:limit]


def item_kind_labels(app: Flask | None = None) -> dict[str, Any]:
    """Every item kind the features declare, with its label, in the features' order."""
    labels: dict[str, Any] = {}
    for feature in registry(app).features:
        labels.update(feature.item_kinds)
    return labels


def items_depend_on_roles_only(app: Flask | None = None) -> bool:
    """Do logged-in members with the same roles get the same items from every feature?"""
    return not any(f.personal_items for f in registry(app).features)


def _linkables(kind: str, app: Flask | None) -> list[Linkable]:
    return [link for f in registry(app).features for link in f.linkables if link.kind == kind]


def link_choices(kind: str, viewer: Any, limit: int = 200,
                 app: Flask | None = None) -> list[tuple[int, Item]]:
    """What a select may offer for ``kind``, newest first; empty when no feature has any
    (the page then leaves the select out)."""
    found = [pair for link in _linkables(kind, app) if link.choices is not None
             for pair in link.choices(viewer if _is_member(viewer) else None, limit)]
    return found[:max(0, limit)]


def linked(kind: str, ids: Iterable[int | None], viewer: Any,
           app: Flask | None = None) -> dict[int, Item]:
    """{id: Item} for those of ``ids`` of ``kind`` that exist and the viewer may see."""
    wanted = {i for i in ids if i is not None}
    found: dict[int, Item] = {}
    if wanted:
        for link in _linkables(kind, app):
            if link.find is not None:
                found.update(link.find(wanted, viewer if _is_member(viewer) else None))
    return found


def export_sections(app: Flask | None = None) -> list[ExportSection]:
    return sorted((f.export for f in registry(app).features if f.export is not None),
                  key=lambda section: section.name)


def portables(app: Flask | None = None) -> list[tuple[str, Portable]]:
    """(feature name, Portable) of every feature that has tables, in the features' order."""
    return [(f.name, f.portable) for f in registry(app).features if f.portable is not None]


def account_code_taken(code: str, app: Flask | None = None) -> bool:
    return any(f.account_codes(code) for f in registry(app).features
               if f.account_codes is not None)


def audit_actions(app: Flask | None = None) -> dict[str, Any]:
    """Every audit action key the features record, with its label (lazy gettext)."""
    labels: dict[str, Any] = {}
    for feature in registry(app).features:
        labels.update(feature.audit_actions)
    return labels


def find_subject(kind: str, item_id: str, app: Flask | None = None) -> Any | None:
    """The thing of ``kind`` with this stable item id (an event by its urn), or None."""
    for link in _linkables(kind, app):
        if link.subject is not None:
            found = link.subject(item_id)
            if found is not None:
                return found
    return None


def coming_subjects(kind: str, viewer: Any, tag: str, limit: int = 20,
                    app: Flask | None = None) -> list[Any]:
    """The things of ``kind`` tagged ``tag`` not over yet that the viewer may see."""
    found: list[Any] = []
    for link in _linkables(kind, app):
        if link.coming is not None:
            found.extend(link.coming(viewer if _is_member(viewer) else None, tag,
                                     max(0, limit)))
    return found[:max(0, limit)]


def notification_kinds(app: Flask | None = None) -> list[NotificationKind]:
    """Every kind of notification the features declare, in the features' order."""
    kinds = [kind for f in registry(app).features for kind in f.notifications]
    keys = [kind.key for kind in kinds]
    duplicated = {key for key in keys if keys.count(key) > 1}
    if duplicated:
        raise ValueError(f"notification kinds declared twice: {sorted(duplicated)}")
    return kinds


def notification_on(member: Any, key: str, app: Flask | None = None) -> bool:
    """Whether ``member`` wants mail of kind ``key`` (their choice, else the group's default,
    else the kind's own default); True when no feature keeps preferences."""
    switch = (app or current_app).extensions.get(NOTIFICATION_SWITCH_KEY)
    return True if switch is None else bool(switch(member, key))


def address_flagged(member: Any, app: Flask | None = None) -> bool:
    """Whether a mail server refused ``member``'s current address for good: optional mail
    (notifications a member may switch off, digests) is then not sent until the address
    changes or an admin clears the flag; False when no feature keeps flags."""
    check = (app or current_app).extensions.get(ADDRESS_FLAG_KEY)
    return False if check is None else bool(check(member))


def data_problems(app: Flask | None = None) -> list[str]:
    """The problems every feature's ``check`` finds in the current app's database."""
    return [problem for f in registry(app).features if f.check is not None
            for problem in f.check()]


def group_fields(app: Flask | None = None) -> tuple[dict[str, Any], datetime | None]:
    """The features' optional fields of the feed's group block that have a value, and the
    latest time any of them changed (None: never)."""
    found: dict[str, Any] = {}
    latest: datetime | None = None
    for feature in registry(app).features:
        for group_field in feature.group_fields:
            value, changed = group_field.value()
            if value is not None:
                found[group_field.name] = value
            if changed is not None and (latest is None or changed > latest):
                latest = changed
    return found, latest


def demo_steps(app: Flask | None = None) -> list[DemoStep]:
    return sorted((f.demo for f in registry(app).features if f.demo is not None),
                  key=lambda step: step.order)
