"""Importing a group from eLAS, eLAND or a spreadsheet (docs/import.md).

:func:`preview` reads the files (``sources.read``), checks every row and, when nothing is
wrong, converts them into the same document the full export writes
(``lets_site/portable.py``); :func:`run_import` loads that document with the one loader,
all or nothing, and audits it. Listings and categories go into the document's offers
section, which the offers feature's Portable loads: this feature does not import offers.

Members come without a password (eLAS keeps unsalted hashes): they choose one through an
invitation, sent only when an admin asks (:func:`invite_imported`).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lets_site import codes, portable
from lets_site.audit import services as audit
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.ledger.models import Account, AccountKind, Transfer, TransferKind
from lets_site.members import services as members
from lets_site.members.models import Member, Role, Status, Visibility
from lets_site.moving import sources
from lets_site.moving.sources import (
    ADS,
    CATEGORIES,
    CONTACTS,
    MEMBERS,
    ORGANISATIONS,
    TRANSACTIONS,
)
from lets_site.organisations.models import Organisation
from lets_site.search import normalise_text
from lets_site.settings import get_settings, zone
from lets_site.slugs import slugify

REQUIRED = {
    MEMBERS: ("code", "name"),
    ORGANISATIONS: ("code", "name"),
    CATEGORIES: ("name",),
    ADS: ("type", "title"),
    TRANSACTIONS: ("date", "amount"),
    CONTACTS: ("contact_type", "value"),
}
SAMPLE_ROWS = 5
LISTING_DAYS = 365  # an ad without a validity stays a year

# eLAS status codes (src/Cnst/StatusCnst.php) and the words of eLAND and spreadsheets.
STATUSES = {
    "0": Status.INACTIVE, "1": Status.ACTIVE, "2": Status.LEAVING, "5": Status.CANDIDATE,
    "6": Status.CANDIDATE, "7": Status.INACTIVE,  # 7: an interSystem account
    "active": Status.ACTIVE, "actief": Status.ACTIVE, "actif": Status.ACTIVE,
    "inactive": Status.INACTIVE, "inactief": Status.INACTIVE, "inactif": Status.INACTIVE,
    "leaving": Status.LEAVING, "uitstapper": Status.LEAVING, "sortant": Status.LEAVING,
    "candidate": Status.CANDIDATE, "kandidaat": Status.CANDIDATE, "candidat": Status.CANDIDATE,
    "": Status.ACTIVE,
}
TYPES = {"0": "want", "1": "offer", "want": "want", "wants": "want", "vraag": "want",
         "w": "want", "demande": "want", "offer": "offer", "offers": "offer",
         "aanbod": "offer", "o": "offer", "offre": "offer"}
# A contact's type (eLAS and eLAND type_contact.abbrev) -> the member's field. Other
# types (web, ...) have no field on a member and are left out (docs/import.md).
CONTACT_TYPES = {"mail": "email", "email": "email", "e-mail": "email", "courriel": "email",
                 "gsm": "phone", "tel": "phone", "phone": "phone", "telefoon": "phone",
                 "mobile": "phone", "gsm/tel": "phone", "adr": "address", "address": "address",
                 "adres": "address", "adresse": "address"}
# eLAS flag_public (0/1) and eLAND access (admin/user/guest/anonymous) -> who sees it.
CONTACT_VISIBILITY = {
    "1": Visibility.PUBLIC, "true": Visibility.PUBLIC, "yes": Visibility.PUBLIC,
    "ja": Visibility.PUBLIC, "oui": Visibility.PUBLIC, "public": Visibility.PUBLIC,
    "anonymous": Visibility.PUBLIC,
    "": Visibility.MEMBERS, "0": Visibility.MEMBERS, "false": Visibility.MEMBERS,
    "no": Visibility.MEMBERS, "nee": Visibility.MEMBERS, "non": Visibility.MEMBERS,
    "user": Visibility.MEMBERS, "users": Visibility.MEMBERS, "members": Visibility.MEMBERS,
    "guest": Visibility.MEMBERS, "interlets": Visibility.MEMBERS,
    "admin": Visibility.HIDDEN, "hidden": Visibility.HIDDEN, "private": Visibility.HIDDEN,
}
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_DATE_RE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})"
                      r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


class ImportRefused(DomainError):
    """The files have problems, or the site is not a new one: nothing was written."""

    def __init__(self, message: Any, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    reason: str


@dataclass
class FileSummary:
    name: str
    encoding: str
    delimiter: str
    kind: str | None
    rows: int


@dataclass
class Preview:
    files: list[FileSummary] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    document: dict[str, Any] | None = None
    decimals: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.document is not None


@dataclass
class _Holder:
    kind: str  # "member" or "organisation"
    code: str
    source_code: str
    row: sources.Row
    file: str
    record: dict[str, Any]
    account: dict[str, Any] = field(default_factory=dict)
    stated: int | None = None


class _Builder:
    """Checks the rows and builds the document, reporting every problem."""

    def __init__(self, files: list[sources.SourceFile], actor: Member | None,
                 now: datetime) -> None:
        self.files = files
        self.actor = actor
        self.now = now
        self.problems: list[Problem] = []
        self.decimals = ledger.get_settings().decimals
        self.prefix = codes.normalise(get_settings().code_prefix) or "LE"
        self.holders: dict[str, _Holder] = {}  # by our code
        self.by_source: dict[str, _Holder] = {}  # by the source's code (upper case)
        self.by_id: dict[str, _Holder] = {}  # by the source's user id (eLAND)
        self.ids = {name: self._max_id(name) for name in (
            "member", "organisation", "ledger_account", "ledger_transfer", "offer_category",
            "listing")}
        self.sections: dict[str, dict[str, list[dict[str, Any]]]] = {
            "members": {"member": [], "member_role": []},
            "organisations": {"organisation": []},
            "ledger": {"ledger_account": [], "ledger_transfer": []},
            "offers": {"offer_category": [], "listing": []},
        }
        self.categories: dict[str, dict[str, Any]] = {}  # by source id and by name
        self.counts: Counter[str] = Counter()
        self.samples: dict[str, list[dict[str, str]]] = {}
        # The contact of organisations' ads: the admin importing, else the first admin.
        self.contact_id = actor.id if actor is not None else db.session.scalar(
            select(Member.id).where(Member.role_rows.any(role=Role.ADMIN))
            .order_by(Member.id).limit(1))

    # --- helpers ---------------------------------------------------------------------
    @staticmethod
    def _max_id(table: str) -> int:
        t = db.metadata.tables[table]
        return int(db.session.scalar(select(func.coalesce(func.max(t.c.id), 0))) or 0)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def problem(self, file: str, row: sources.Row | int, column: str, reason: Any) -> None:
        line = row if isinstance(row, int) else row.line
        label = row.columns.get(column, column) if isinstance(row, sources.Row) else column
        self.problems.append(Problem(file, line, label, str(reason)))

    def sample(self, kind: str, values: dict[str, str]) -> None:
        rows = self.samples.setdefault(kind, [])
        if len(rows) < SAMPLE_ROWS:
            rows.append(values)

    def amount(self, file: str, row: sources.Row, column: str, *, limit: bool) -> int | None:
        text = row.get(column)
        if limit and text == "":
            return None
        try:
            if limit:
                return ledger.parse_limit(text, self.decimals, column)
            return ledger.parse_amount(text, self.decimals, column)
        except DomainError as error:
            self.problem(file, row, column, error.message)
            return None

    def moment(self, file: str, row: sources.Row, column: str) -> datetime | None:
        """A date (with or without a time, no zone: the group's) as UTC; None if empty."""
        text = row.get(column)
        if not text:
            return None
        parsed = parse_moment(text)
        if parsed is None:
            self.problem(file, row, column, gettext(
                "%(value)s is not a date (write 31/12/2027 or 2027-12-31).", value=text))
            return None
        return parsed.replace(tzinfo=zone()).astimezone(UTC) if parsed.tzinfo is None \
            else parsed.astimezone(UTC)

    # --- holders ---------------------------------------------------------------------
    def our_code(self, source_code: str) -> str | None:
        code = codes.normalise(source_code)
        if codes.is_valid(code):
            return code
        compact = re.sub(r"[^A-Z0-9]", "", code)
        candidate = f"{self.prefix}-{compact}"
        return candidate if compact and codes.is_valid(candidate) else None

    def holders_of(self, source: sources.SourceFile, kind: str) -> None:
        taken_emails = {e.lower() for e in db.session.scalars(
            select(Member.email).where(Member.email.is_not(None)))}
        seen_emails: dict[str, int] = {}
        for row in source.rows:
            source_code = row.get("code")
            code = self.our_code(source_code) if source_code else None
            if not source_code:
                self.problem(source.name, row, "code", gettext("The account code is empty."))
                continue
            if code is None:
                self.problem(source.name, row, "code", gettext(
                    "%(code)s cannot become an account code.", code=source_code))
                continue
            if code in self.holders:
                first = self.holders[code]
                self.problem(source.name, row, "code", gettext(
                    "Duplicate code %(code)s (also on line %(line)d of %(file)s).",
                    code=source_code, line=first.row.line, file=first.file))
                continue
            if codes.is_taken(code):
                self.problem(source.name, row, "code", gettext(
                    "The code %(code)s is already used on this site.", code=code))
                continue
            name = row.get("name") or row.get("full_name")
            if not name:
                self.problem(source.name, row, "name", gettext("The name is empty."))
                continue
            status = STATUSES.get(row.get("status").lower())
            if status is None:
                self.problem(source.name, row, "status", gettext(
                    "Unknown status %(value)s.", value=row.get("status")))
                continue
            low = self.amount(source.name, row, "min", limit=True)
            high = self.amount(source.name, row, "max", limit=True)
            stated = self.amount(source.name, row, "balance", limit=True)
            if low is not None and high is not None and low > high:
                self.problem(source.name, row, "min", gettext(
                    "The minimum is above the maximum."))
            joined = self.moment(source.name, row, "joined")
            created = self.moment(source.name, row, "created") or joined or self.now
            holder = _Holder(kind, code, source_code, row, source.name, {}, stated=stated)
            if kind == "member":
                email = row.get("email").lower() or None
                if email is not None:
                    if "@" not in email:
                        self.problem(source.name, row, "email", gettext(
                            "%(value)s is not an e-mail address.", value=email))
                    elif email in taken_emails:
                        self.problem(source.name, row, "email", gettext(
                            "The e-mail address %(value)s is already used on this site.",
                            value=email))
                    elif email in seen_emails:
                        self.problem(source.name, row, "email", gettext(
                            "The e-mail address %(value)s is also on line %(line)d.",
                            value=email, line=seen_emails[email]))
                    else:
                        seen_emails[email] = row.line
                holder.record = self.member_record(row, code, name, email, status, joined,
                                                   created)
            else:
                holder.record = self.organisation_record(row, code, name, status, created)
            holder.account = {
                "id": self.next_id("ledger_account"), "code": code, "kind": kind,
                "member_id": holder.record["id"] if kind == "member" else None,
                "organisation_id": holder.record["id"] if kind == "organisation" else None,
                "balance": 0, "min_balance": low, "max_balance": high,
                "created_at": created,
            }
            self.holders[code] = holder
            self.by_source[source_code.strip().upper()] = holder
            if row.get("id"):
                self.by_id[row.get("id")] = holder
            self.counts[MEMBERS if kind == "member" else ORGANISATIONS] += 1
            self.sample(MEMBERS if kind == "member" else ORGANISATIONS,
                        {"code": code, "name": name, "status": str(status)})

    def member_record(self, row: sources.Row, code: str, name: str, email: str | None,
                      status: str, joined: datetime | None, created: datetime
                      ) -> dict[str, Any]:
        member_id = self.next_id("member")
        role = row.get("role").lower()
        roles = ["member"] + (["admin"] if role == "admin" else [])
        for each in roles:
            self.sections["members"]["member_role"].append({"member_id": member_id,
                                                            "role": each})
        return {
            "id": member_id, "account_code": code, "display_name": name[:80],
            "full_name": (row.get("full_name") or name)[:160], "email": email,
            "phone": row.get("phone")[:40], "address": row.get("address")[:200],
            "postcode": row.get("postcode")[:12], "languages": "",
            "bio": row.get("description_text"), "status": status,
            "joined_on": joined.astimezone(zone()).date() if joined else None,
            "created_at": created, "password_hash": None,
            "email_visibility": Visibility.MEMBERS, "phone_visibility": Visibility.MEMBERS,
            "address_visibility": Visibility.MEMBERS, "profile_public": False,
            "locale": None, "close_requested_at": None,
            "managed_by_admin": email is None,
        }

    def organisation_record(self, row: sources.Row, code: str, name: str, status: str,
                            created: datetime) -> dict[str, Any]:
        taken = {s for s in db.session.scalars(select(Organisation.slug))} | {
            r["slug"] for r in self.sections["organisations"]["organisation"]}
        base = slugify(name)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        record = {"id": self.next_id("organisation"), "slug": slug, "name": name[:160],
                  "account_code": code, "description": row.get("description_text"),
                  "website": "", "status": "active" if status in (
                      Status.ACTIVE, Status.LEAVING) else "inactive",
                  "created_at": created}
        return record

    def holder(self, file: str, row: sources.Row, column: str, id_column: str
               ) -> _Holder | None:
        """The account a transaction or ad names: an eLAND user id, or a code, possibly
        followed by the name ("123 Jan Peeters", as eLAS writes Van and Aan)."""
        if row.get(id_column):
            found = self.by_id.get(row.get(id_column))
            if found is None:
                self.problem(file, row, id_column, gettext(
                    "Unknown account %(value)s.", value=row.get(id_column)))
            return found
        text = row.get(column).upper()
        if not text:
            self.problem(file, row, column, gettext("The account is empty."))
            return None
        found = self.by_source.get(text) or self.holders.get(codes.normalise(text))
        if found is None:
            for source_code in sorted(self.by_source, key=len, reverse=True):
                if text.startswith(source_code + " "):
                    found = self.by_source[source_code]
                    break
        if found is None:
            self.problem(file, row, column, gettext("Unknown account %(value)s.",
                                                    value=row.get(column)))
        return found

    # --- contacts --------------------------------------------------------------------
    def contacts_of(self, source: sources.SourceFile) -> None:
        """A contacts file beside the members file: the first e-mail, phone and address
        of each member fill those fields (a value the members file gives stays), and
        their flag_public/access says who sees them. An unknown account, a malformed
        e-mail or a second, different e-mail for one member is a problem."""
        emails = {h.record["email"]: h for h in self.holders.values()
                  if h.kind == "member" and h.record.get("email")}
        taken = {e.lower() for e in db.session.scalars(
            select(Member.email).where(Member.email.is_not(None)))}
        filled: set[tuple[int, str]] = set()  # (member id, field) filled by a contact
        for row in source.rows:
            owner = self.holder(source.name, row, "code", "owner_id")
            kind = row.get("contact_type").lower()
            ours = CONTACT_TYPES.get(kind)
            value = row.get("value")
            visibility = CONTACT_VISIBILITY.get(row.get("public").lower())
            if visibility is None:
                self.problem(source.name, row, "public", gettext(
                    "Unknown visibility %(value)s (0 or 1; admin, user, guest or "
                    "anonymous).", value=row.get("public")))
            if ours == "email" and value and not _EMAIL_RE.match(value):
                self.problem(source.name, row, "value", gettext(
                    "%(value)s is not an e-mail address.", value=value))
                continue
            if (owner is None or visibility is None or ours is None or not value
                    or owner.kind != "member"):
                continue
            record = owner.record
            if ours == "email":
                email = value.lower()
                if record["email"] and record["email"] != email:
                    self.problem(source.name, row, "value", gettext(
                        "A second e-mail address %(value)s for %(code)s (the first is "
                        "%(first)s).", value=email, code=owner.source_code,
                        first=record["email"]))
                    continue
                if email in taken:
                    self.problem(source.name, row, "value", gettext(
                        "The e-mail address %(value)s is already used on this site.",
                        value=email))
                    continue
                other = emails.get(email)
                if other is not None and other is not owner:
                    self.problem(source.name, row, "value", gettext(
                        "The e-mail address %(value)s is also the address of %(code)s.",
                        value=email, code=other.source_code))
                    continue
                emails[email] = owner
                record["email"] = email
                record["managed_by_admin"] = False
            elif not record[ours]:
                record[ours] = value[:40] if ours == "phone" else value[:200]
            elif (record["id"], ours) not in filled:
                # The members file gave this field: the contact only says who sees it.
                if record[ours] != value[:200]:
                    continue
            else:
                continue  # the first of its kind counts
            if (record["id"], ours) in filled:
                continue
            filled.add((record["id"], ours))
            record[f"{ours}_visibility"] = visibility
            self.counts[CONTACTS] += 1
            self.sample(CONTACTS, {"code": owner.code, "type": kind, "value": value})

    # --- categories and ads ----------------------------------------------------------
    def categories_of(self, source: sources.SourceFile) -> None:
        rows = self.sections["offers"]["offer_category"]
        # Slugs of categories an admin made before the import stay theirs. Read from the
        # table by name: the offers feature is not imported here (docs/import.md).
        table = db.metadata.tables["offer_category"]
        taken = {r["slug"] for r in rows} | set(db.session.scalars(select(table.c.slug)))
        pending: list[tuple[dict[str, Any], str, sources.Row]] = []
        for position, row in enumerate(source.rows):
            name = row.get("name")
            if not name:
                self.problem(source.name, row, "name", gettext("The name is empty."))
                continue
            if name.lower() in self.categories:
                self.problem(source.name, row, "name", gettext(
                    "Duplicate category %(value)s.", value=name))
                continue
            base = slugify(name, fallback="category")
            slug, n = base, 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
            taken.add(slug)
            record = {"id": self.next_id("offer_category"), "parent_id": None, "slug": slug,
                      "name_nl": name[:80], "name_fr": name[:80], "name_en": name[:80],
                      "position": position, "words": ""}
            rows.append(record)
            self.categories[name.lower()] = record
            if row.get("id"):
                self.categories[f"#{row.get('id')}"] = record
            pending.append((record, row.get("parent"), row))
            self.counts[CATEGORIES] += 1
            self.sample(CATEGORIES, {"name": name, "parent": row.get("parent")})
        for record, parent, row in pending:
            if parent and parent != "0":
                found = self.categories.get(f"#{parent}") or self.categories.get(parent.lower())
                if found is None:
                    self.problem(source.name, row, "parent", gettext(
                        "Unknown category %(value)s.", value=parent))
                elif found is not record:
                    record["parent_id"] = found["id"]

    def ads_of(self, source: sources.SourceFile) -> None:
        has_title = source.has("title")
        for row in source.rows:
            owner = self.holder(source.name, row, "code", "owner_id")
            kind = TYPES.get(row.get("type").lower())
            if kind is None:
                self.problem(source.name, row, "type", gettext(
                    "Unknown type %(value)s (0 or want, 1 or offer).", value=row.get("type")))
            title = row.get("title") if has_title else row.get("content")
            description = (row.get("content") or row.get("description")) if has_title \
                else row.get("description")
            if not title:
                self.problem(source.name, row, "title" if has_title else "content",
                             gettext("The title is empty."))
            category = None
            wanted = row.get("category_id") or row.get("category")
            if wanted:
                category = (self.categories.get(f"#{wanted}")
                            or self.categories.get(wanted.lower()))
                if category is None:
                    column = "category_id" if row.get("category_id") else "category"
                    self.problem(source.name, row, column, gettext(
                        "Unknown category %(value)s.", value=wanted))
            valid_until = self.moment(source.name, row, "validity")
            created = self.moment(source.name, row, "created") or self.now
            if owner is None or kind is None or not title:
                continue
            valid_until = valid_until or self.now + timedelta(days=LISTING_DAYS)
            contact = owner.record["id"] if owner.kind == "member" else self.contact_id
            if contact is None:
                self.problem(source.name, row, "code", gettext(
                    "An organisation's ad needs a contact: import through the admin page."))
                continue
            names = [category["name_nl"]] if category else []
            self.sections["offers"]["listing"].append({
                "id": self.next_id("listing"), "uuid": str(uuid.uuid4()), "kind": kind,
                "title": title[:120], "description": description,
                "category_id": category["id"] if category else None, "price_amount": None,
                "price_basis": "agree", "photo_key": None, "photo_width": None,
                "photo_height": None, "thumb_width": None, "thumb_height": None,
                "valid_until": valid_until, "visibility": "members",
                "state": "published" if valid_until > self.now else "expired",
                "owner_member_id": owner.record["id"] if owner.kind == "member" else None,
                "owner_org_id": owner.record["id"] if owner.kind == "organisation" else None,
                "contact_member_id": contact,
                "search_text": normalise_text("\n".join([title, description, *names])),
                "revision": 1, "created_at": created, "updated_at": created,
            })
            self.counts[kind + "s"] += 1
            self.sample(ADS, {"type": kind, "owner": owner.code, "title": title})

    # --- the ledger ------------------------------------------------------------------
    def transactions_of(self, source: sources.SourceFile) -> list[tuple[datetime, int, dict[
            str, Any]]]:
        found = []
        for row in source.rows:
            payer = self.holder(source.name, row, "from", "from_id")
            payee = self.holder(source.name, row, "to", "to_id")
            amount = self.amount(source.name, row, "amount", limit=False)
            when = self.moment(source.name, row, "date")
            if when is None and not row.get("date"):
                self.problem(source.name, row, "date", gettext("The date is empty."))
            if when is not None and when > self.now:
                self.problem(source.name, row, "date", gettext(
                    "The date %(value)s is in the future.", value=row.get("date")))
                continue
            if payer is not None and payer is payee:
                self.problem(source.name, row, "to", gettext(
                    "An account cannot pay itself."))
                continue
            if payer is None or payee is None or amount is None or when is None:
                continue
            found.append((when, row.line, {"payer": payer, "payee": payee, "amount": amount,
                                           "description": row.get("description")[:200],
                                           "created_at": when}))
            self.sample(TRANSACTIONS, {"date": row.get("date"), "from": payer.code,
                                       "to": payee.code, "amount": row.get("amount")})
        return found

    def book(self, entries: list[tuple[datetime, int, dict[str, Any]]],
             group: dict[str, Any] | None) -> None:
        """Transfers in date order with the balances after each (ledger check reads
        them); the accounts' balances are where they end."""
        running: dict[int, int] = {}
        transfers = self.sections["ledger"]["ledger_transfer"]
        for _when, _line, entry in sorted(entries, key=lambda e: (e[0], e[1])):
            payer = entry["payer"] if isinstance(entry["payer"], dict) else entry[
                "payer"].account
            payee = entry["payee"] if isinstance(entry["payee"], dict) else entry[
                "payee"].account
            running[payer["id"]] = running.get(payer["id"], 0) - entry["amount"]
            running[payee["id"]] = running.get(payee["id"], 0) + entry["amount"]
            transfers.append({
                "id": self.next_id("ledger_transfer"), "uid": secrets.token_hex(16),
                "payer_id": payer["id"], "payee_id": payee["id"], "amount": entry["amount"],
                "description": entry["description"], "kind": entry.get(
                    "kind", TransferKind.PAYMENT), "listing_id": None,
                "idempotency_key": None, "created_by_id": entry.get("created_by_id"),
                "created_at": entry["created_at"],
                "payer_balance_after": running[payer["id"]],
                "payee_balance_after": running[payee["id"]],
                "payer_min": None, "payee_max": None, "over_limit": False,
                "reverses_id": None, "reason": "", "batch": None, "imported": True,
            })
        for holder in self.holders.values():
            holder.account["balance"] = running.get(holder.account["id"], 0)
        if group is not None:
            group["balance"] = running.get(group["id"], 0)

    def opening_balances(self, group: dict[str, Any]) -> None:
        entries = []
        label = gettext("Opening balance")
        for n, holder in enumerate(self.holders.values()):
            if not holder.stated:
                continue
            positive = holder.stated > 0
            entries.append((self.now, n, {
                "payer": group if positive else holder, "payee": holder if positive else group,
                "amount": abs(holder.stated), "description": label,
                "created_at": self.now, "kind": TransferKind.ADMIN,
                "created_by_id": self.actor.id if self.actor is not None else None}))
        self.counts["opening_balances"] = len(entries)
        self.book(entries, group)

    def check_balances(self) -> None:
        for holder in self.holders.values():
            if holder.stated is not None and holder.stated != holder.account["balance"]:
                self.problem(holder.file, holder.row, "balance", gettext(
                    "The stated balance is %(stated)s but the transactions add up to "
                    "%(sum)s.", stated=ledger.format_amount(holder.stated, self.decimals),
                    sum=ledger.format_amount(holder.account["balance"], self.decimals)))


def parse_moment(text: str) -> datetime | None:
    text = text.strip()
    match = _DATE_RE.match(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
        try:
            return datetime(int(year), int(month), int(day), int(hour or 12),
                            int(minute or 0), int(second or 0))
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
    except ValueError:
        return None
    if len(text) == 10:  # a date alone: noon, so the zone never moves it to another day
        parsed = datetime.combine(parsed.date(), time(12))
    return parsed


def site_is_new() -> bool:
    """No transfers yet, and no members but the admins who set the site up."""
    if db.session.scalar(select(func.count(Transfer.id))):
        return False
    others = select(func.count(Member.id)).where(~Member.role_rows.any(role=Role.ADMIN))
    return not db.session.scalar(others)


def read_files(files: Sequence[tuple[str, bytes]]) -> list[sources.SourceFile]:
    return [sources.read(name, data) for name, data in files]


def preview(files: Sequence[tuple[str, bytes]], actor: Member | None = None,
            now: datetime | None = None) -> Preview:
    """What importing ``files`` (name, bytes) would create, and every wrong row; the
    document to load when nothing is wrong. Writes nothing."""
    now = now or datetime.now(UTC)
    read = read_files(files)
    result = Preview(files=[FileSummary(s.name, s.encoding, s.delimiter, s.kind, len(s.rows))
                            for s in read])
    builder = _Builder(read, actor, now)
    result.decimals = builder.decimals
    if not site_is_new():
        builder.problem("", 0, "", gettext(
            "This site already has members or transfers: import into a new site."))
    by_kind: dict[str, list[sources.SourceFile]] = {}
    for source in read:
        if source.kind is None:
            builder.problem(source.name, 1, "", gettext(
                "Which kind of file is this? Its columns name no members, organisations, "
                "categories, ads or transactions (docs/import.md)."))
            continue
        for column in REQUIRED[source.kind]:
            if not source.has(column):
                builder.problem(source.name, 1, column, gettext(
                    "Missing column %(column)s.", column=column))
        if source.kind == TRANSACTIONS:
            for side in ("from", "to"):
                if not source.has(side) and not source.has(f"{side}_id"):
                    builder.problem(source.name, 1, side, gettext(
                        "Missing column %(column)s.", column=side))
        by_kind.setdefault(source.kind, []).append(source)
    if not by_kind.get(MEMBERS) and not by_kind.get(ORGANISATIONS):
        builder.problem("", 0, "", gettext("No file of members."))
    if builder.problems:
        result.problems = builder.problems
        return result
    for source in by_kind.get(MEMBERS, []):
        builder.holders_of(source, "member")
    for source in by_kind.get(ORGANISATIONS, []):
        builder.holders_of(source, "organisation")
    for source in by_kind.get(CONTACTS, []):
        builder.contacts_of(source)
    for source in by_kind.get(CATEGORIES, []):
        builder.categories_of(source)
    for source in by_kind.get(ADS, []):
        builder.ads_of(source)
    group = _group_account(builder)
    history = by_kind.get(TRANSACTIONS, [])
    if history:
        entries = [e for source in history for e in builder.transactions_of(source)]
        builder.counts[TRANSACTIONS] = len(entries)
        builder.book(entries, group)
        builder.check_balances()
    else:
        builder.opening_balances(group)
    result.counts = dict(builder.counts)
    result.samples = builder.samples
    result.problems = builder.problems
    if not builder.problems:
        accounts = [h.account for h in builder.holders.values()] + [group]
        builder.sections["members"]["member"] = [
            h.record for h in builder.holders.values() if h.kind == "member"]
        builder.sections["organisations"]["organisation"] = [
            h.record for h in builder.holders.values() if h.kind == "organisation"]
        builder.sections["ledger"]["ledger_account"] = sorted(accounts, key=lambda a: a["id"])
        result.document = _document(builder.sections, now)
    return result


def _group_account(builder: _Builder) -> dict[str, Any]:
    """The group account's row: the site's own (replaced on import) or a new one."""
    existing = db.session.scalar(select(Account).where(Account.kind == AccountKind.GROUP))
    if existing is not None:
        return {"id": existing.id, "code": existing.code, "kind": AccountKind.GROUP,
                "member_id": None, "organisation_id": None, "balance": 0,
                "min_balance": None, "max_balance": None, "created_at": existing.created_at,
                "existing": True}
    code = next((f"{builder.prefix}-{s}" for s in ledger.GROUP_SUFFIXES
                 if f"{builder.prefix}-{s}" not in builder.holders
                 and not codes.is_taken(f"{builder.prefix}-{s}")), f"{builder.prefix}-G0")
    return {"id": builder.next_id("ledger_account"), "code": code, "kind": AccountKind.GROUP,
            "member_id": None, "organisation_id": None, "balance": 0, "min_balance": None,
            "max_balance": None, "created_at": builder.now}


def _document(sections: dict[str, dict[str, list[dict[str, Any]]]], now: datetime
              ) -> dict[str, Any]:
    plain = {feature: {table: [{k: portable.to_json(v) for k, v in row.items()
                                if k != "existing"} for row in rows]
                       for table, rows in tables.items()}
             for feature, tables in sections.items()}
    return {"format": portable.FORMAT, "version": portable.VERSION,
            "exported_at": now.isoformat(), "features": plain}


def run_import(actor: Member | None, files: Sequence[tuple[str, bytes]],
               now: datetime | None = None) -> Preview:
    """Import the files, all or nothing (flushes; the caller commits), audited. Refused
    with every problem when a row is wrong."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_l("Only admins import a group."))
    result = preview(files, actor, now)
    if not result.ok or result.document is None:
        raise ImportRefused(_l("Nothing was imported: the files have problems."),
                            result.problems)
    group = db.session.scalar(select(Account).where(Account.kind == AccountKind.GROUP))
    if group is not None:  # no transfers yet: the document carries it again
        db.session.delete(group)
        db.session.flush()
    portable.load_document(result.document, keep_existing=True)
    audit.record(actor, "moving.import", target_type="site", target_label=", ".join(
        f.name for f in result.files), details=dict(sorted(result.counts.items())))
    return result


def invitable(actor: Member) -> list[Member]:
    """Active members with an e-mail address who never chose a password: on a site that
    moved in, the imported ones (eLAS passwords are never imported)."""
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins send invitations."))
    return list(db.session.scalars(select(Member).where(
        Member.email.is_not(None), Member.password_hash.is_(None),
        Member.status.in_((Status.ACTIVE, Status.LEAVING))).order_by(Member.id)))


def invite_imported(actor: Member) -> int:
    """Send each imported member who has an e-mail address and no password an invitation
    to choose one (only when an admin asks). Returns how many."""
    invited = invitable(actor)
    for member in invited:
        members.invite(actor, member)
    audit.record(actor, "moving.invite", target_type="site", details={"members": len(invited)})
    return len(invited)

