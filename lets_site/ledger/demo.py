"""Demo ledger: a year of believable trades in hours between the Ieper demo members and
organisations, monthly contributions to the group account, one correction and a few
payment requests waiting for an answer."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import LedgerSettings, PaymentRequest, TransferKind
from lets_site.members.models import Member, Status
from lets_site.organisations.models import Organisation

# (what for, hours from, hours to) in quarter hours
SERVICES = [
    ("Tuin gewied", 1.0, 3.0), ("Haag gesnoeid", 1.5, 4.0), ("Fiets hersteld", 0.5, 2.0),
    ("Band geplakt", 0.25, 0.75), ("Soep gemaakt voor twee", 1.0, 2.0),
    ("Computerhulp: printer geïnstalleerd", 0.5, 1.5), ("Les smartphone", 1.0, 2.0),
    ("Vervoer naar het ziekenhuis", 1.0, 3.0), ("Boodschappen gedaan", 0.5, 1.5),
    ("Broek ingekort", 0.5, 1.0), ("Rits vervangen", 0.5, 1.0), ("Hond uitgelaten", 0.5, 1.0),
    ("Kinderen opgevangen", 2.0, 4.0), ("Taart gebakken", 1.0, 2.0),
    ("Bijles Frans", 1.0, 2.0), ("Conversatie Nederlands", 1.0, 1.5),
    ("Hulp bij de belastingaangifte", 1.0, 2.5), ("Schilderwerk slaapkamer", 3.0, 6.0),
    ("Lamp opgehangen", 0.5, 1.0), ("Kapsel", 0.5, 1.0), ("Courgettes en tomaten", 0.25, 1.0),
    ("Verhuishulp", 2.0, 5.0), ("Gordijnen genaaid", 2.0, 4.0), ("Katten gevoed", 0.5, 2.0),
]
ORG_SERVICES = {
    "IE-HED": [("Wandeling met deelnemers van Hedera", 1.0, 2.0, "in"),
               ("Hondenuitlaatdienst Hedera", 0.5, 1.5, "in"),
               ("Kledingherstel door Hedera", 0.5, 1.5, "in"),
               ("Kookhulp bij Hedera", 1.0, 3.0, "out")],
    "IE-VON": [("Vervoer met de auto voor een bewoner", 1.0, 3.0, "out"),
               ("Facebookles één-op-één", 1.0, 2.0, "out")],
    "IE-WVA": [("Vervoer naar de activiteit", 1.0, 3.0, "out"),
               ("Hulp bij het soep maken", 1.0, 2.0, "out")],
    "IE-SNA": [("Ticket concert De Ieperse Snaar", 0.5, 1.0, "in"),
               ("Helpende handen op het concert", 2.0, 4.0, "out")],
}


def _hours(rng: random.Random, low: float, high: float) -> int:
    quarters = rng.randint(int(low * 4), int(high * 4))
    return max(1, quarters) * 25  # cents of an hour


def seed(rng: random.Random, members: list[Member], orgs: list[Organisation]) -> None:
    db.session.add(LedgerSettings(id=services.SETTINGS_ID, decimals=2, default_min=-5000,
                                  default_max=5000, balances_visible=False))
    db.session.flush()
    admin = next(m for m in members if m.is_admin)
    traders = [m for m in members
               if m.account_code and m.status in (Status.ACTIVE, Status.LEAVING)]
    accounts = {m.account_code: services._stored_account(m.account_code or "")
                for m in traders}
    for org in orgs:
        if org.account_code:
            accounts[org.account_code] = services._stored_account(org.account_code)
    group = services.group_account(create=True)
    assert group is not None
    tz = ZoneInfo("Europe/Brussels")
    today = datetime.now(UTC).astimezone(tz).date()
    first = today - timedelta(days=365)
    # A few members trade a lot, most now and then: weights make it look like a real group.
    weights = [rng.choice([1, 1, 2, 3, 5]) for _ in traders]
    events: list[tuple[datetime, str, str, int, str, str]] = []
    for day in range(365):
        date_ = first + timedelta(days=day)
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            payer, payee = rng.choices(traders, weights=weights, k=2)
            if payer.id == payee.id:
                continue
            what, low, high = rng.choice(SERVICES)
            at = datetime.combine(date_, time(rng.randint(8, 20), rng.randint(0, 59)), tz)
            events.append((at, payer.account_code or "", payee.account_code or "",
                           _hours(rng, low, high), what, TransferKind.PAYMENT))
        if rng.random() < 0.3:
            code = rng.choice(sorted(ORG_SERVICES))
            what, low, high, direction = rng.choice(ORG_SERVICES[code])
            person = rng.choice(traders).account_code or ""
            payer, payee = (person, code) if direction == "in" else (code, person)
            at = datetime.combine(date_, time(rng.randint(9, 17), rng.randint(0, 59)), tz)
            events.append((at, payer, payee, _hours(rng, low, high), what, TransferKind.PAYMENT))
        if date_.day == 1:
            at = datetime.combine(date_, time(6, 0), tz)
            for code in sorted(accounts):
                events.append((at, code, group.code, 50,
                               f"Bijdrage {date_.strftime('%m/%Y')} aan de werking",
                               TransferKind.CONTRIBUTION))
    events.sort(key=lambda e: e[0])
    booked = []
    for at, payer_code, payee_code, amount, what, kind in events:
        payer = group if payer_code == group.code else accounts[payer_code]
        payee = group if payee_code == group.code else accounts[payee_code]
        try:
            result = services._book(admin if kind != TransferKind.PAYMENT else None, payer,
                                     payee, amount, what, kind=kind, at=at.astimezone(UTC),
                                     batch=f"demo-{at:%Y%m}" if kind != "payment" else None)
        except DomainError:
            continue  # past a limit: this trade did not happen
        booked.append(result.transfer)
    # One mistake and its correction.
    mistake = next(t for t in booked[len(booked) // 2:] if t.kind == TransferKind.PAYMENT)
    services._book(admin, mistake.payee, mistake.payer, mistake.amount,
                   f"Correctie van {mistake.uid}", kind=TransferKind.CORRECTION,
                   allow_over_limit=True, reverses=mistake,
                   reason="Twee keer ingevoerd door de betaler.",
                   at=mistake.created_at + timedelta(days=2))
    # Payment requests waiting for the demo member (IE-003) and for Hedera.
    now = datetime.now(UTC)
    pending = [("IE-001", "IE-003", 150, "Vervoer naar de markt"),
               ("IE-006", "IE-003", 100, "Bijles Frans"),
               ("IE-010", "IE-HED", 200, "Vervoer voor de wandeling van Hedera")]
    for n, (payee, payer, amount, what) in enumerate(pending):
        if payee in accounts and payer in accounts:
            db.session.add(PaymentRequest(
                uid=services._new_uid(), payer_id=accounts[payer].id,
                payee_id=accounts[payee].id, amount=amount, description=what,
                created_at=now - timedelta(hours=5 * (n + 1)),
            ))
    db.session.flush()
