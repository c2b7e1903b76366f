"""Book swap pages: thin views (validate, one service call, commit, 303)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lets_site.books import bulk, covers, services, swaps
from lets_site.books.forms import (
    CONDITION_LABELS,
    GENRE_LABELS,
    LANGUAGE_LABELS,
    MODE_LABELS,
    OUTCOME_LABELS,
    REQUEST_LABELS,
    STATE_LABELS,
    AcceptForm,
    BookForm,
    EmptyForm,
    HandOverForm,
    ImportForm,
    RequestForm,
    parse_filters,
)
from lets_site.books.models import Book, BookRequest
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import login_manager
from lets_site.photos import file_name
from lets_site.web import htmx
from lets_site.web.forms import choices, show_error
from lets_site.web.submit import act, submit

bp = Blueprint("books", __name__)


def _viewer() -> object | None:
    return current_user if current_user.is_authenticated else None


@bp.app_context_processor
def _inject() -> dict[str, object]:
    return {"book_labels": {"language": LANGUAGE_LABELS, "genre": GENRE_LABELS,
                            "condition": CONDITION_LABELS, "mode": MODE_LABELS,
                            "state": STATE_LABELS, "request": REQUEST_LABELS,
                            "outcome": OUTCOME_LABELS}}


@bp.route("/books/")
def index() -> Response:
    filters = parse_filters(request.args)
    page = services.browse(_viewer(), filters)
    return htmx.render("books/index.html", "books/_list.html", filters=filters, page=page)


@bp.route("/books/mine")
@login_required
def mine() -> str:
    return render_template("books/mine.html", mine=services.mine(current_user))


def _book_form(obj: Book | None = None) -> BookForm:
    form = BookForm(obj=obj)
    if obj is None:
        orgs = services.owner_choices(current_user)
        form.owner.choices = choices([("", _("myself")),
                                      *[(str(o.id), o.name) for o in orgs]])
    else:
        del form.owner
        if request.method == "GET":
            form.price.data = (None if obj.price is None  # type: ignore[assignment]
                               else _price_in_units(obj.price))
    return form


def _price_in_units(amount: int) -> object:
    from decimal import Decimal

    from lets_site.ledger import services as ledger

    return Decimal(amount).scaleb(-ledger.get_settings().decimals)


@bp.route("/books/new", methods=["GET", "POST"])
@login_required
def new() -> Response | str:
    form = _book_form()

    def create() -> Book:
        org = _chosen_org(form.owner.data or "")
        return services.create_book(current_user, form.book_data(),
                                    organisation=org)  # type: ignore[arg-type]

    done = submit(form, create,
                  success=lambda book: url_for("books.detail", book_id=book.id),
                  message=_("The book is on your shelf and offered."))
    return done or render_template("books/form.html", form=form, book=None)


def _chosen_org(value: str) -> object | None:
    if not value:
        return None
    org = next((o for o in services.owner_choices(current_user) if str(o.id) == value), None)
    if org is None:
        raise PermissionDenied(_("You are not an intermediary of this organisation."))
    return org


@bp.route("/books/import", methods=["GET", "POST"])
@login_required
def bulk_add() -> Response | str:
    """Paste or upload, see the preview (bad rows by line number, nothing written), then
    add the good rows. The uploaded file's text moves into the text box, so confirming
    needs no second upload."""
    form = ImportForm()
    orgs = services.owner_choices(current_user)
    form.owner.choices = choices([("", _("myself")), *[(str(o.id), o.name) for o in orgs]])
    rows: list[bulk.Row] | None = None
    if form.validate_on_submit():
        try:
            upload = form.file.data
            if upload is not None and getattr(upload, "filename", ""):
                form.text.data = bulk.decode(upload.read(bulk.MAX_BYTES + 1))
                form.add.data = False  # a new file is previewed first
            rows = bulk.parse(form.text.data or "", form.language.data or "nl",
                              form.mode.data or "give")
        except DomainError as error:
            show_error(form, error)
        if rows is not None and form.add.data:
            good = [row.data for row in rows if row.data is not None]
            done = submit(form,
                          lambda: services.add_many(
                              current_user, good,
                              organisation=_chosen_org(form.owner.data or "")),  # type: ignore[arg-type]
                          success=url_for("books.mine"),
                          message=_("%(n)d books are added.", n=len(good)))
            if done:
                return done
    return render_template("books/import.html", form=form, rows=rows)


@bp.route("/books/<int:book_id>/edit", methods=["GET", "POST"])
@login_required
def edit(book_id: int) -> Response | str:
    book = services.get_for_edit(book_id, current_user)
    form = _book_form(book)
    done = submit(form, lambda: services.update_book(current_user, book, form.book_data()),
                  success=url_for("books.detail", book_id=book.id),
                  message=_("The book is saved."))
    return done or render_template("books/form.html", form=form, book=book)


@bp.route("/books/<int:book_id>", methods=["GET", "POST"])
def detail(book_id: int) -> Response | str:
    """The book; its request form posts here."""
    try:
        book = services.get_book(book_id, _viewer())
    except PermissionDenied:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        raise
    form = RequestForm()
    if request.method == "POST":
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        done = submit(form,
                      lambda: services.request_book(current_user, book,
                                                    form.message.data or ""),
                      success=url_for("books.detail", book_id=book.id),
                      message=_("Your request is sent. The owner will answer."))
        if done:
            return done
    return render_template("books/detail.html", book=book, form=form,
                           requests=services.requests_for(book, _viewer()),
                           swaps=_swaps_of(book),
                           accept_form=AcceptForm(formdata=None), button=EmptyForm())


def _swaps_of(book: Book) -> dict[str, list[object]] | None:
    """For the owner of an offered book: the coming book swaps it is brought to, and the
    others it may go to."""
    if not book.owned_by(current_user) or book.state != "available":
        return None
    coming = swaps.coming_swaps(current_user)
    brought = set(swaps.events_of(book))
    return {"brought": [e for e in coming if e.urn in brought],
            "other": [e for e in coming if e.urn not in brought]}


def _button(action: str, book: Book) -> Response:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    return act(lambda: getattr(services, action)(current_user, book),
               propagate=(PermissionDenied, NotFound),
               back=url_for("books.detail", book_id=book.id),
               message={"shelve": _("The book stays on your shelf and is no longer offered."),
                        "offer": _("The book is offered again.")}[action])


# --- Covers (lets_site/photos.py serves them) ---------------------------------------------


@bp.app_context_processor
def _covers() -> dict[str, object]:
    return {"book_cover_url": _cover_url}


def _cover_url(book: Book, thumb: bool = False) -> str:
    return url_for("books.cover", name=file_name(book.cover_key or "", thumb))


@bp.route("/books/covers/<name>")
def cover(name: str) -> Response:
    """Only who may see a book with this cover gets it."""
    viewer = _viewer()
    return covers.COVERS.serve(name, lambda key: covers.audience(key, viewer))  # type: ignore[arg-type]


@bp.route("/books/<int:book_id>/shelve", methods=["POST"])
@login_required
def shelve(book_id: int) -> Response:
    return _button("shelve", services.get_for_edit(book_id, current_user))


@bp.route("/books/<int:book_id>/offer", methods=["POST"])
@login_required
def offer(book_id: int) -> Response:
    return _button("offer", services.get_for_edit(book_id, current_user))


def _request_button(req: BookRequest, action: str, message: str) -> Response:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    return act(lambda: getattr(services, action)(current_user, req),
               propagate=(PermissionDenied, NotFound),
               back=url_for("books.detail", book_id=req.book_id), message=message)


@bp.route("/books/requests/<int:request_id>/accept", methods=["POST"])
@login_required
def accept(request_id: int) -> Response:
    req = services.get_request(request_id)
    form = AcceptForm()
    back = url_for("books.detail", book_id=req.book_id)
    if not form.validate_on_submit():
        from flask import flash

        from lets_site.web.forms import see_other

        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return see_other(back)
    return act(lambda: services.accept(current_user, req, form.due_date.data),
               propagate=(PermissionDenied, NotFound), back=back,
               message=_("The request is accepted. Hand the book over and record it here."))


@bp.route("/books/requests/<int:request_id>/decline", methods=["POST"])
@login_required
def decline(request_id: int) -> Response:
    return _request_button(services.get_request(request_id), "decline",
                           _("The request is declined."))


@bp.route("/books/requests/<int:request_id>/cancel", methods=["POST"])
@login_required
def cancel(request_id: int) -> Response:
    return _request_button(services.get_request(request_id), "cancel",
                           _("Your request is withdrawn."))


@bp.route("/books/requests/<int:request_id>/return", methods=["POST"])
@login_required
def return_book(request_id: int) -> Response:
    return _request_button(services.get_request(request_id), "return_book",
                           _("The book is back and offered again."))


@bp.route("/books/requests/<int:request_id>/hand-over", methods=["GET", "POST"])
@login_required
def hand_over(request_id: int) -> Response | str:
    """A confirmation page (it says what is paid, if anything), then the hand-over."""
    req = services.get_request(request_id)
    if not (req.book.can_edit(current_user) or req.requester_id == current_user.id):
        abort(403)
    form = HandOverForm()
    done = submit(form,
                  lambda: services.hand_over(current_user, req,
                                             to_shelf=bool(form.to_shelf.data)),
                  retry=True,
                  success=url_for("books.detail", book_id=req.book_id)
                  if req.book.mode == "lend" else url_for("books.mine"),
                  message=_("The hand-over is recorded."))
    return done or render_template("books/hand_over.html", req=req, book=req.book, form=form)
