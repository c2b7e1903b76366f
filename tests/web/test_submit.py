"""web.submit: the one way views carry out a form or a button."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response, get_flashed_messages, make_response
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from wtforms import StringField

from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.settings import SiteSettings
from lets_site.web.forms import BaseForm
from lets_site.web.submit import act, submit


class NameForm(BaseForm):
    class Meta:
        csrf = False

    name = StringField()


class _Deadlock(Exception):
    """What psycopg raises for a deadlock: the driver error SQLAlchemy wraps."""

    sqlstate = "40P01"


def _write(name: str) -> SiteSettings:
    """One real row, flushed as a service would (never committed here)."""
    row = SiteSettings(group_name=name)
    db.session.add(row)
    db.session.flush()
    return row


def _stored(name: str) -> int:
    """How many rows named ``name`` the database holds once this transaction is gone."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(SiteSettings)
                             .where(SiteSettings.group_name == name)) or 0


def _post(app: Flask, headers: dict[str, str] | None = None, name: str = "x") -> Any:
    return app.test_request_context("/form", method="POST", data={"name": name},
                                    headers=headers or {})


def test_submit_success_commits_flashes_and_answers_303(app: Flask) -> None:
    with _post(app):
        form = NameForm()
        response = submit(form, lambda: _write("saved"), success="/done",
                          message="It is saved.")
        assert response is not None
        assert response.status_code == 303
        assert response.headers["Location"] == "/done"
        assert get_flashed_messages(with_categories=True) == [("success", "It is saved.")]
        assert _stored("saved") == 1


def test_submit_success_and_message_read_the_result(app: Flask) -> None:
    with _post(app):
        response = submit(
            NameForm(), lambda: _write("result"),
            success=lambda row: f"/settings/{row.id}",
            message=lambda row: (f"Replayed {row.group_name}.", "info"),
        )
        assert response is not None
        row_id = db.session.scalar(select(SiteSettings.id)
                                   .where(SiteSettings.group_name == "result"))
        assert response.headers["Location"] == f"/settings/{row_id}"
        assert get_flashed_messages(with_categories=True) == [("info", "Replayed result.")]


def test_submit_no_message_flashes_nothing(app: Flask) -> None:
    with _post(app):
        assert submit(NameForm(), lambda: _write("quiet"), success="/done") is not None
        assert get_flashed_messages() == []


def test_submit_invalid_form_calls_nothing(app: Flask) -> None:
    called = []
    with app.test_request_context("/form", method="GET"):
        assert submit(NameForm(), lambda: called.append(1), success="/done") is None
    assert called == []


def test_submit_refusal_rolls_back_and_lands_on_its_field(app: Flask) -> None:
    def refuse() -> None:
        _write("refused")
        raise DomainError("Not this name.", field="name")

    with _post(app):
        form = NameForm()
        assert submit(form, refuse, success="/done", message="Saved.") is None
        assert form.name.errors == ["Not this name."]
        assert form.form_errors == []
        assert get_flashed_messages() == []
        # Rolled back by the helper: the flushed row is gone from this very session.
        assert db.session.scalar(select(func.count()).select_from(SiteSettings)
                                 .where(SiteSettings.group_name == "refused")) == 0


@pytest.mark.parametrize("field", [None, "no_such_field"])
def test_submit_refusal_without_a_known_field_goes_to_the_form_top(app: Flask,
                                                                   field: str | None) -> None:
    def refuse() -> None:
        raise DomainError("Refused.", field=field)

    with _post(app):
        form = NameForm()
        assert submit(form, refuse, success="/done") is None
        assert form.form_errors == ["Refused."]
        assert form.name.errors == []


def test_submit_refused_hook_can_point_the_error_at_a_field(app: Flask) -> None:
    def point(error: DomainError) -> None:
        if isinstance(error, PermissionDenied):
            error.field = "name"

    def refuse() -> None:
        raise PermissionDenied("Not your account.")

    with _post(app):
        form = NameForm()
        assert submit(form, refuse, success="/done", refused=point) is None
        assert form.name.errors == ["Not your account."]


def test_submit_retries_a_deadlock_when_asked(app: Flask) -> None:
    attempts: list[str] = []

    def deadlocks_once() -> SiteSettings:
        attempts.append("try")
        if len(attempts) == 1:
            _write("first try")
            raise OperationalError("UPDATE account", {}, _Deadlock("deadlock detected"))
        return _write("second try")

    with _post(app):
        response = submit(NameForm(), deadlocks_once, success="/done", retry=True)
        assert response is not None and response.status_code == 303
    assert len(attempts) == 2
    assert _stored("first try") == 0
    assert _stored("second try") == 1


def test_submit_does_not_retry_unless_asked(app: Flask) -> None:
    attempts: list[str] = []

    def deadlocks() -> None:
        attempts.append("try")
        _write("deadlocked")
        raise OperationalError("UPDATE account", {}, _Deadlock("deadlock detected"))

    with _post(app), pytest.raises(OperationalError):
        submit(NameForm(), deadlocks, success="/done")
    assert attempts == ["try"]
    assert _stored("deadlocked") == 0


def test_submit_non_domain_error_propagates_uncommitted(app: Flask) -> None:
    def broken() -> None:
        _write("broken")
        raise ValueError("a bug")

    with _post(app):
        form = NameForm()
        with pytest.raises(ValueError, match="a bug"):
            submit(form, broken, success="/done", message="Saved.")
        assert form.errors == {}
        assert get_flashed_messages() == []
    assert _stored("broken") == 0


def test_submit_answers_htmx_with_the_partial_and_no_flash(app: Flask) -> None:
    def partial(row: SiteSettings) -> Response:
        return make_response(f"<li id='row'>{row.group_name}</li>")

    with _post(app, {"HX-Request": "true"}):
        response = submit(NameForm(), lambda: _write("in place"), success="/done",
                          message="Saved.", partial=partial)
        assert response is not None
        assert response.status_code == 200
        assert response.get_data(as_text=True) == "<li id='row'>in place</li>"
        assert "HX-Request" in response.headers["Vary"]
        assert get_flashed_messages() == []
    assert _stored("in place") == 1


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true", "HX-Boosted": "true"}])
def test_submit_with_a_partial_still_redirects_a_page_request(app: Flask,
                                                            headers: dict[str, str]) -> None:
    with _post(app, headers):
        response = submit(NameForm(), lambda: _write("page"), success="/done",
                          message="Saved.", partial=lambda row: make_response("partial"))
        assert response is not None and response.status_code == 303
        assert "HX-Request" in response.headers["Vary"]
        assert get_flashed_messages() == ["Saved."]


def test_act_success_commits_and_goes_to_success(app: Flask) -> None:
    with _post(app):
        response = act(lambda: _write("pressed"), back="/back", success="/after",
                       message="Done.")
        assert response.status_code == 303
        assert response.headers["Location"] == "/after"
        assert get_flashed_messages(with_categories=True) == [("success", "Done.")]
    assert _stored("pressed") == 1


def test_act_refusal_rolls_back_flashes_the_error_and_goes_back(app: Flask) -> None:
    def refuse() -> None:
        _write("refused button")
        raise DomainError("Not now.")

    with _post(app):
        response = act(refuse, back="/back", success="/after", message="Done.")
        assert response.status_code == 303
        assert response.headers["Location"] == "/back"
        assert get_flashed_messages(with_categories=True) == [("error", "Not now.")]
    assert _stored("refused button") == 0


def test_act_propagates_the_errors_it_is_told_to_after_rolling_back(app: Flask) -> None:
    def missing() -> None:
        _write("missing")
        raise NotFound("No such thing.")

    with _post(app):
        with pytest.raises(NotFound):
            act(missing, back="/back", propagate=(NotFound,))
        # Rolled back before raising: the flushed row is gone from this session.
        assert db.session.scalar(select(func.count()).select_from(SiteSettings)
                                 .where(SiteSettings.group_name == "missing")) == 0
        assert get_flashed_messages() == []


def test_act_non_domain_error_propagates_uncommitted(app: Flask) -> None:
    def broken() -> None:
        _write("broken button")
        raise ValueError("a bug")

    with _post(app), pytest.raises(ValueError, match="a bug"):
        act(broken, back="/back", message="Done.")
    assert _stored("broken button") == 0
