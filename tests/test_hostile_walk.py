"""Hostile input through every form and route of the route table, per role: no 5xx.

For each role (one app and one login per role), every page of ``tests/test_routes.py``
that the role can open is fetched and each of its forms is sent back with hostile values:
NUL, other control characters, line separators, CR/LF, 100 KB strings, 400-digit numbers
and percent-escapes that are not UTF-8, first in all fields at once, then NUL and a line
separator in one field at a time (the others as the page filled them). Every route is
also fetched with hostile query strings and path segments. Nothing may answer 5xx; where
a form is shown again, the refused field says why. Runs on SQLite and on PostgreSQL
(which refuses NUL in text).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from tests.conftest import ROLES
from tests.test_routes import TABLE, fill

NUL = "a\x00b"
LINE = "a\u2028b\u2029c\x85d"
# name -> (value, sent as raw percent-escapes instead of encoded text)
HOSTILE: dict[str, tuple[str, bool]] = {
    "nul": (NUL, False),
    "control": ("a\x01\x1b\x7f\x9bb", False),
    "line": (LINE, False),
    "crlf": ("a\r\nb\x0b\x0c", False),
    "long": ("x" * 100_000, False),
    "digits": ("9" * 400, False),
    "bad_utf8": ("%ff%fe%C3%28%ED%A0%80", True),
}
# Messages of lets_site/web/forms.py (English: the test client asks for it).

@cache
def refusals() -> list[str]:
    """The form refusals as a page shows them, in every language (the walk may switch)."""
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l
    from markupsafe import escape

    from lets_site.web import forms

    # The walk posts every form it finds, a listing's "withdraw" before its answer form:
    # the answer then meets a listing that closed meanwhile, which says so.
    closed = _l("This listing is no longer open for answers: your message was not sent.")
    messages = (forms.CONTROL_MESSAGE, forms.LINE_BREAK_MESSAGE, forms.HIDDEN_MESSAGE, closed)
    shown = []
    for lang in ("nl", "fr", "en"):
        with force_locale(lang):
            shown += [str(escape(str(message))) for message in messages]
    return shown


TEXT_TYPES = {"text", "email", "search", "url", "password", "tel", "number", "date",
              "hidden", "textarea", "select", "radio"}
SKIP_ACTIONS = {"/logout"}  # ends the walk's own session
PATH_SEGMENTS = ["%00", "%ff", "a%0Ab", "%E2%80%A8", "9" * 400, "x" * 3000, "%C0%AF"]


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, type, value)
    options: dict[str, str] = field(default_factory=dict)  # select/radio: first value

    def defaults(self) -> list[tuple[str, str]]:
        values: dict[str, str] = {}
        for name, kind, value in self.fields:
            if kind in ("checkbox",) or (kind == "radio" and name in values):
                continue
            values.setdefault(name, value)
        return list(values.items())

    def targets(self) -> list[str]:
        return sorted({n for n, kind, _ in self.fields
                       if kind in TEXT_TYPES and n != "csrf_token"})

    def visible(self, name: str) -> bool:
        return any(n == name and kind != "hidden" for n, kind, _ in self.fields)

    def key(self) -> tuple[str, ...]:
        return (self.method, urlsplit(self.action).path, *sorted(n for n, _, _ in self.fields))


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._submitted: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
            self._submitted = set()
            return
        form = self._form
        if form is None or "name" not in a:
            if tag == "option" and self._select is not None and self._select_value is None:
                self._select_value = a.get("value", "")
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image", "button", "reset", "file"):
                if kind == "submit" and not self._submitted:
                    self._submitted.add(name)
                    form.fields.append((name, "submit", a.get("value", "")))
                return
            if kind == "radio" and "checked" not in a and any(
                n == name for n, _, _ in form.fields
            ):
                return
            if kind == "checkbox" and "checked" in a:
                form.fields.append((name, "checked", a.get("value", "y")))
                return
            form.fields.append((name, kind, a.get("value", "")))
        elif tag == "button" and a.get("type", "submit") == "submit":
            if not self._submitted:
                self._submitted.add(name)
                form.fields.append((name, "submit", a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = name, []
        elif tag == "select":
            self._select, self._select_value = name, None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._form is not None and self._textarea is not None:
            self._form.fields.append((self._textarea, "textarea", "".join(self._text)))
            self._textarea = None
        elif tag == "select" and self._form is not None and self._select is not None:
            self._form.fields.append((self._select, "select", self._select_value or ""))
            self._select = None


def forms_of(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def encode(pairs: list[tuple[str, str]], raw: dict[str, str]) -> bytes:
    """A form body; fields in ``raw`` are sent as given (percent-escapes), the others
    encoded as a browser would (UTF-8)."""
    parts = [f"{quote(k)}={raw[k] if k in raw else quote(v, safe='')}" for k, v in pairs]
    parts += [f"{quote(k)}={v}" for k, v in raw.items() if k not in dict(pairs)]
    return "&".join(parts).encode("ascii")


def _health_report(response: Any, what: str) -> bool:
    """/healthz answers 503 with its plain report when a check fails (the tests' database
    has no backup): that is what monitors read, not an error of the site."""
    path = what.split(" ", 2)[1] if what.count(" ") else what
    return (response.status_code == 503 and path.split("?")[0] == "/healthz"
            and response.data.startswith(b"database: "))


@dataclass
class Walk:
    client: Any
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)

    def check(self, response: Any, what: str) -> Any:
        self.requests += 1
        if response.status_code >= 500 and not _health_report(response, what):
            self.failures.append(f"{response.status_code} {what}")
        return response

    def post(self, form: Form, pairs: list[tuple[str, str]], raw: dict[str, str],
             what: str) -> Any:
        return self.check(self.client.post(
            form.action, data=encode(pairs, raw),
            content_type="application/x-www-form-urlencoded"), what)

    def get(self, url: str, what: str) -> Any:
        return self.check(self.client.get(url), what)


def submit_hostile(walk: Walk, page: str, form: Form) -> None:
    defaults = form.defaults()
    targets = form.targets()
    if form.method != "post":
        for name, (value, raw) in HOSTILE.items():
            q = "&".join(f"{quote(t)}={value if raw else quote(value, safe='')}"
                         for t in targets or ["q"])
            walk.get(f"{form.action or page}?{q}", f"GET form {page} {name}")
        return
    for name, (value, raw) in HOSTILE.items():
        if raw:
            walk.post(form, [(k, v) for k, v in defaults if k not in targets],
                      dict.fromkeys(targets, value), f"{form.action} all={name}")
        else:
            pairs = [(k, value if k in targets else v) for k, v in defaults]
            walk.post(form, pairs, {}, f"{form.action} all={name}")
    for target in targets:
        for name, value in (("nul", NUL), ("line", LINE)):
            pairs = [(k, value if k == target else v) for k, v in defaults]
            response = walk.post(form, pairs, {}, f"{form.action} {target}={name}")
            text = response.get_data(as_text=True)
            if (form.visible(target) and response.status_code == 200 and "<form" in text
                    and not any(message in text for message in refusals())):
                walk.unexplained.append(f"{form.action} {target}={name}")


def hostile_urls(template: str, people: dict[str, Any]) -> Iterator[str]:
    path = fill(TABLE, template, people)
    for name in ("nul", "line", "long", "bad_utf8"):  # control and crlf: as nul, to the guard
        value, raw = HOSTILE[name]
        v = value[:6000] if raw else quote(value[:6000], safe="")  # servers cap URL length
        yield f"{path}?q={v}&page={v}&next={v}&status={v}&start={v}&for={v}&{v}={v}"
    yield f"{path}?page={'9' * 400}"
    if "{" in template:
        head = template.split("{", 1)[0]
        for segment in PATH_SEGMENTS:
            yield head + segment


def extra_pages(people: dict[str, Any]) -> dict[str, str]:
    """Pages whose forms the route table's objects do not show: a candidate to approve,
    a transfer to reverse, a payment request to confirm or decline. Page -> role."""
    from lets_site.extensions import db
    from lets_site.ledger import services as ledger
    from tests import factories

    member, other = people["member"], people["other_org_member"]
    candidate = factories.make_candidate(display_name="Cas Candidate")
    uid = factories.make_transfer(member, other, "2", "Klus").uid
    ledger.request_payment(other, other.account_code, member.account_code, "3", "Les", None)
    db.session.commit()
    return {f"/admin/members/{candidate.id}": "admin",
            f"/admin/ledger/transfers/{uid}/reverse": "admin",
            f"/ledger/transfers/{uid}": "member"}


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_hostile_input_through_every_form_and_route(client: Any, people: dict[str, Any],
                                                    login_as: Any, role: str) -> None:
    extra = extra_pages(people)
    login_as(role)
    walk = Walk(client)
    forms_seen: set[tuple[str, ...]] = set()
    pages = [(t, fill(TABLE, t, people), e[role] == 200)
             for t, e in sorted(TABLE.routes.items())]
    pages += [(page, page, who == role) for page, who in extra.items()]
    for template, page, allowed in pages:
        if allowed:
            response = walk.get(page, f"GET {page}")
            if response.mimetype == "text/html":
                for form in forms_of(response.get_data(as_text=True)):
                    form.action = form.action or page
                    if urlsplit(form.action).path in SKIP_ACTIONS or form.key() in forms_seen:
                        continue
                    forms_seen.add(form.key())
                    submit_hostile(walk, page, form)
        for url in hostile_urls(template, people):
            walk.get(url, f"GET {url[:120]}")
    assert len(forms_seen) >= (4 if role == "anonymous" else 10), sorted(forms_seen)
    assert not walk.failures, walk.failures[:20]
    assert not walk.unexplained, walk.unexplained[:20]
