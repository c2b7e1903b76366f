"""Private pages are kept out of htmx's history cache (sessionStorage), and the first page
after logout asks the browser to empty it (issue 7). The browser side is in
tests/browser/test_history.py."""

from __future__ import annotations

from typing import Any


def test_pages_of_a_logged_in_member_are_kept_out_of_the_htmx_history(
    client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member()
    assert 'hx-history="false"' not in client.get("/").get_data(as_text=True)
    auth.login(member.account_code)
    for path in ("/", "/ledger/", "/members/", f"/members/{member.account_code}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'hx-history="false"' in response.get_data(as_text=True), path


def test_the_page_after_logout_asks_to_clear_the_history_cache_once(
    client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member()
    auth.login(member.account_code)
    assert "data-clear-history" not in client.get("/").get_data(as_text=True)
    response = client.post_form("/logout", follow_redirects=True)
    assert "data-clear-history" in response.get_data(as_text=True)
    assert "data-clear-history" not in client.get("/").get_data(as_text=True)
