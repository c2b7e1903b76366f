"""Carrying out a POST the one way every view does it.

A view hands over its form and one service call; the helper validates, runs the call
(again, on a PostgreSQL deadlock, when asked), and either commits and answers 303 with a
flash message, or rolls back and puts the service's refusal on the form, so the view
renders the form again::

    form = LimitsForm()
    done = submit(form, lambda: services.set_limits(current_user, code, ...),
                  success=url_for("ledger.account", code=code),
                  message=_("The limits are saved."))
    return done or render_template("ledger/admin_limits.html", form=form)

``act`` is the same for a button (a small form on another page): the view has checked the
form; a refusal is flashed and the browser is sent back.

Only a ``DomainError`` is a refusal; anything else propagates (the request's teardown
rolls back), so a bug is a 500 and never a message on a form.

A few views stay written out because they do something else: the login commits a refused
attempt (it counts for throttling); the logout, the language switch and offers'
"acting for" have no refusal to show; the mass transfer's preview commits and shows its
plan on the same page instead of redirecting; the pay form's summary step writes nothing
and answers with the summary page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from lets_site.database import retrying
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.web import htmx
from lets_site.web.forms import see_other, show_error

T = TypeVar("T")

# What to tell the user after the commit: a text (flashed with the call's category), a
# (text, category) pair, or None for nothing; or a function of the service's result that
# returns one of these.
Message = str | tuple[str, str] | None


def _run(action: Callable[[], T], retry: bool) -> T:
    return retrying(action) if retry else action()


def _done(result: T, success: str | Callable[[T], str],
          message: Message | Callable[[T], Message], category: str,
          partial: Callable[[T], Response] | None) -> Response:
    """After a successful call: commit, then answer."""
    db.session.commit()
    if partial is not None and htmx.wants_partial():
        # The partial shows the new state in place; a flashed message would only surface
        # on some later page, so none is queued.
        return htmx.add_vary(partial(result))
    # The target first: it may start a new session (a login), which would drop a message
    # flashed before it.
    target = success(result) if callable(success) else success
    text = message(result) if callable(message) else message
    if isinstance(text, tuple):
        text, category = text
    if text:
        flash(text, category)
    response = see_other(target)
    if partial is not None:
        htmx.add_vary(response)
    return response


def submit(form: FlaskForm, action: Callable[[], T], *,
           success: str | Callable[[T], str],
           message: Message | Callable[[T], Message] = None,
           category: str = "success",
           retry: bool = False,
           refused: Callable[[DomainError], None] | None = None,
           partial: Callable[[T], Response] | None = None) -> Response | None:
    """Validate ``form`` and, if it is valid, run ``action`` (one service call).

    - The form is not sent or not valid: None, with the form's own errors.
    - The service refuses (``DomainError``): roll back, call ``refused(error)`` if given
      (it may point the error at a field or adjust the form), put the message on the
      field named by ``error.field`` or at the top of the form; None.
    - Success: commit; then, for an htmx request that wants a partial, answer with
      ``partial(result)``; otherwise flash ``message`` and answer 303 to ``success`` (a URL
      or a function of the result).

    ``retry=True`` runs the call again when PostgreSQL aborted it for a deadlock or a
    serialization failure (``database.retrying``): only for a call that is the whole
    transaction so far. None means the view renders its form again."""
    if not form.validate_on_submit():
        return None
    try:
        result = _run(action, retry)
    except DomainError as error:
        db.session.rollback()
        if refused is not None:
            refused(error)
        show_error(form, error)
        return None
    return _done(result, success, message, category, partial)


def act(action: Callable[[], T], *, back: str,
        success: str | Callable[[T], str] | None = None,
        message: Message | Callable[[T], Message] = None,
        category: str = "success",
        retry: bool = False,
        propagate: tuple[type[DomainError], ...] = ()) -> Response:
    """Run a button's action (the view has checked the button's form).

    A refusal rolls back, is flashed as an error and sends the browser to ``back``; the
    error classes in ``propagate`` (say ``PermissionDenied``, ``NotFound``) are raised
    instead, after the rollback, for the error pages. Success commits, flashes ``message``
    and sends the browser to ``success`` (default: ``back``)."""
    try:
        result = _run(action, retry)
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, propagate):
            raise
        flash(str(error.message), "error")
        return see_other(back)
    return _done(result, back if success is None else success, message, category, None)
