"""Book-swap pages: bring a book to a swap (or take it back), and the organisers' record of
what changed hands. The books' blueprint; registered by importing this module
(books/feature.py)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from lets_site.books import services, swaps
from lets_site.books.forms import BringForm, record_form
from lets_site.books.models import Mode
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.web.forms import safe_next
from lets_site.web.submit import act, submit

from .views import bp


def _bring_or_take_back(action: str, message: str) -> Response:
    form = BringForm()
    if not form.validate_on_submit():
        abort(400)
    book = services._load(form.book_id())
    if book is None:
        raise NotFound(_("There is no such book."))
    event = swaps.get_swap(form.event.data or "", current_user)
    back = safe_next(form.next.data, url_for("books.detail", book_id=book.id))
    return act(lambda: getattr(swaps, action)(current_user, book, event),
               propagate=(PermissionDenied, NotFound), back=back, message=message)


@bp.route("/books/swaps/bring", methods=["POST"])
@login_required
def bring() -> Response:
    return _bring_or_take_back("bring", _("The book is on the list of the swap."))


@bp.route("/books/swaps/take-back", methods=["POST"])
@login_required
def take_back() -> Response:
    return _bring_or_take_back("unbring", _("The book is off the list of the swap."))


@bp.route("/books/swaps/<urn>/record", methods=["GET", "POST"])
@login_required
def record(urn: str) -> Response | str:
    """One form for the whole swap: per brought book what became of it."""
    event = swaps.get_swap(urn, current_user)
    if not swaps.may_record(current_user, event):
        abort(403)
    rows = swaps.brought(event)
    waiting = [r for r in rows if r.recorded_at is None]
    form: Any = record_form(waiting)

    def choices() -> list[swaps.RowChoice]:
        return [swaps.RowChoice(
            row_id=r.id, outcome=form[f"outcome_{r.id}"].data or "stayed",
            member_code=form[f"member_{r.id}"].data or "",
            due_date=form[f"due_{r.id}"].data if r.book.mode == Mode.LEND else None)
            for r in waiting]

    def refused(error: DomainError) -> None:
        for row_id, message in getattr(error, "rows", {}).items():
            form[f"member_{row_id}"].errors = [*form[f"member_{row_id}"].errors, str(message)]

    done = submit(form, lambda: swaps.record(current_user, event, choices()), retry=True,
                  refused=refused, success=url_for("books.record", urn=event.urn),
                  message=lambda n: ngettext("The swap is recorded: %(num)d book changed hands.",
                                             "The swap is recorded: %(num)d books changed "
                                             "hands.", n))
    return done or render_template("books/swap_record.html", event=event, form=form,
                                   rows=rows, waiting=waiting,
                                   started=swaps.record_open(event))
