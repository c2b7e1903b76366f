"""The import pages (upload -> preview -> confirm) on a 360 px phone with JavaScript off,
and the preview in w3m: long Dutch names, file names and reasons wrap or scroll inside
their own region, never the page; the forms submit without script."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.members.models import Member
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_foundation import log_in
from tests.browser.test_text_browser import run_w3m, session_cookie, squash

pytestmark = pytest.mark.browser

WIDTH = 360
COMPOUND = "Kinderdagverblijfbegeleidersopleidingsinschrijvingsformulier"
USERS = ("letscode;name;fullname;postcode;status\r\n"
         f"101;Jan {COMPOUND};Jan Peeters-{COMPOUND};8900;1\r\n"
         "102;Anaïs;Anaïs Dupré;8900;1\r\n")
CONTACTS = ("letscode;username;abbrev;comments;value;flag_public\r\n"
            f"101;Jan;mail;;jan.{COMPOUND.lower()}@example.org;0\r\n"
            f"101;Jan;adr;;{COMPOUND}straat 1, 8000 Brugge;1\r\n"
            "102;Anaïs;gsm;;0470 11 22 33;1\r\n")
HISTORY = ("Datum;Van;interSysteem;Aan;interSysteem;Bedrag;Dienst;transactie id\r\n"
           f"2024-03-04 10:15:00;102 Anaïs;;101 Jan;;3;{COMPOUND} {COMPOUND};1\r\n")
WRONG = CONTACTS + "104;Nobody;mail;;not-an-address;0\r\n"
USERS_NAME = f"users-{COMPOUND}.csv"


def _files(contacts: str) -> list[dict[str, Any]]:
    return [{"name": USERS_NAME, "mimeType": "text/csv", "buffer": USERS.encode("cp1252")},
            {"name": "contacts.csv", "mimeType": "text/csv", "buffer": contacts.encode()},
            {"name": "transactions.csv", "mimeType": "text/csv",
             "buffer": HISTORY.encode()}]


def _width(page: Any, name: str, problems: list[str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-import-{name}.png"), full_page=True)
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > WIDTH:
        problems.append(f"{name}: the page is {wide} px wide")


def _upload(page: Any, contacts: str) -> None:
    page.goto("/admin/import")
    page.set_input_files("input[type=file]", _files(contacts))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/import/check/**")


def test_import_walks_upload_preview_confirm_at_360_px_without_javascript(
        browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(locale="en", base_url=live_server.url,
                                  viewport={"width": WIDTH, "height": 740},
                                  java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    try:
        log_in(page, live_server.admin_code)
        page.goto("/admin/import")
        _width(page, "upload", problems)
        # A wrong row first: the report of problems, nothing imported.
        _upload(page, WRONG)
        _width(page, "problems", problems)
        report = page.inner_text("main")
        assert "contacts.csv" in report and "Unknown account 104." in report
        assert "not-an-address is not an e-mail address." in report
        assert page.locator("main form button[type=submit]").count() == 0
        # The corrected files: the preview, then the confirmation.
        _upload(page, CONTACTS)
        _width(page, "preview", problems)
        assert "Contacts: 3" in page.inner_text("main")
        page.click("main form button[type=submit]")
        page.wait_for_url("**/admin/import/done")
        _width(page, "done", problems)
    finally:
        context.close()
    assert not problems, "\n".join(problems)

    def imported() -> tuple[int, str | None]:
        jan = db.session.scalar(select(Member).where(Member.account_code == "LE-101"))
        count = db.session.scalar(select(func.count(Member.id))) or 0
        return count, jan.email

    assert live_server.run(imported) == (3, f"jan.{COMPOUND.lower()}@example.org")


def test_import_preview_reads_in_w3m(browser: Any, live_server: LiveServer, w3m: str,
                                     w3m_env: dict[str, str]) -> None:
    context = browser.new_context(locale="en", base_url=live_server.url,
                                  java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, live_server.admin_code)
        _upload(page, WRONG)
        wrong = page.url
        _upload(page, CONTACTS)
        right = page.url
    finally:
        context.close()
    env = w3m_env
    headers = ["Accept-Language: en",
               "Cookie: " + session_cookie(live_server, live_server.admin_code)]
    text = squash(run_w3m(w3m, env, "-dump", wrong, headers))
    assert "2 problems: nothing will be imported" in text
    assert "Unknown account 104." in text and "not-an-address is not an e-mail" in text
    text = squash(run_w3m(w3m, env, "-dump", right, headers))
    assert "What will be created" in text and "Contacts: 3" in text
    assert "Windows-1252" in text and "Import everything" in text
    # Each table of first rows is named, and its columns in words, not the code's keys.
    assert "Contacts Account Type Value LE-101 mail" in text
    assert "Members Account Name Status LE-101 Jan" in text and "Anaïs" in text
    assert "Transactions Date From To Amount 2024-03-04" in text
