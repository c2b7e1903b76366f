"""Logging in from a browser in one language with a profile in another: the welcome
message is in the language of the page that shows it (the member's)."""

from __future__ import annotations

from typing import Any

from tests import factories
from tests.html import select_text


def test_welcome_message_is_in_the_members_language(client: Any, make_member: Any) -> None:
    member = make_member(locale="fr", display_name="Jean-Pierre L")
    response = client.post_form("/login", {"identifier": member.account_code,
                                           "password": factories.PASSWORD},
                                headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"], headers={"Accept-Language": "nl"})
    assert '<html lang="fr">' in page.get_data(as_text=True)
    assert select_text(page, "#messages").startswith("Bienvenue, Jean-Pierre L")
