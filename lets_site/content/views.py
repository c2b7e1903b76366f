"""Pages, news and documents: reading them, and their editing pages under /admin/."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lets_site.content import files, services
from lets_site.content import search as content_search
from lets_site.content.forms import (
    LANGUAGE_LABELS,
    DocumentForm,
    EditorForm,
    EmptyForm,
    NewsForm,
    PageForm,
    UploadForm,
    parent_choices,
)
from lets_site.content.models import NewsItem, State, Visibility, is_editor
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db, login_manager
from lets_site.settings import reader_language
from lets_site.web.forms import see_other
from lets_site.web.security import CSP, admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("content", __name__)

F = TypeVar("F", bound=Callable[..., Any])

# A document is a file to save, never a page of this site: nothing in it runs here.
# The site's policy with ``sandbox`` (no scripts, no plugins, an opaque origin): a file
# opened in the browser can neither run nor reach this site's cookies.
DOCUMENT_CSP = f"{CSP}; sandbox"


def editor_required(view: F) -> F:
    """Logged in and a content editor or admin, else the login page or 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not is_editor(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _viewer() -> Any:
    return current_user if current_user.is_authenticated else None


def _members_only() -> Any:
    """A members-only thing asked for by a visitor: the login page."""
    return login_manager.unauthorized()


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"language_labels": LANGUAGE_LABELS}


# --- Reading -------------------------------------------------------------------------------


@bp.route("/p/<slug>")
def page(slug: str) -> Any:
    found = services.page_by_slug(slug)
    if found is None:
        abort(404)
    viewer = _viewer()
    if not found.can_see(viewer):
        if found.state == State.PUBLISHED and viewer is None:
            return _members_only()
        abort(404)
    lang = reader_language()
    text, fallback = found.shown_text(lang)
    children = [p for p, _depth in services.tree(services.all_pages())
                if p.parent_id == found.id and p.can_see(viewer)]
    return render_template("content/page.html", page=found, text=text, fallback=fallback,
                           children=children, lang=lang, editor=is_editor(viewer))


@bp.route("/news/")
def news_index() -> str:
    number = request.args.get("page", 1, type=int) or 1
    return render_template("content/news_index.html",
                           result=services.news_page(_viewer(), number),
                           editor=is_editor(_viewer()))


@bp.route("/news/<int:news_id>")
def news_detail(news_id: int) -> Any:
    item = db.session.get(NewsItem, news_id) if 0 < news_id <= services.MAX_ID else None
    viewer = _viewer()
    if item is None or not item.can_see(viewer):
        if item is not None and item.state == State.PUBLISHED and viewer is None:
            return _members_only()
        abort(404)
    return render_template("content/news_detail.html", item=item, editor=is_editor(viewer))


@bp.route("/documents/")
def documents_index() -> str:
    viewer = _viewer()
    return render_template("content/documents_index.html",
                           documents=services.visible_documents(viewer),
                           editor=is_editor(viewer))


@bp.route("/documents/<int:document_id>")
def document_detail(document_id: int) -> Any:
    try:
        document = services.document_for(_viewer(), document_id)
    except NotFound:
        if _viewer() is None and _exists_document(document_id):
            return _members_only()
        abort(404)
    return render_template("content/document_detail.html", document=document,
                           editor=is_editor(_viewer()))


def _exists_document(document_id: int) -> bool:
    try:
        services.get_document(document_id)
    except NotFound:
        return False
    return True


@bp.route("/documents/<int:document_id>/file")
def document_file(document_id: int) -> Response:
    """The file itself, to who may see the document: always a download, never sniffed,
    never able to run anything in this site's origin."""
    try:
        document = services.document_for(_viewer(), document_id)
    except NotFound:
        abort(404)
    path = files.path_of(document.stored_name)
    if not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype=document.content_type)
    response.headers["Content-Disposition"] = files.content_disposition(document.file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOCUMENT_CSP
    response.headers["Cache-Control"] = ("private, no-cache"
                                         if document.visibility != Visibility.PUBLIC
                                         else "public, max-age=300")
    response.vary.add("Cookie")
    return response


@bp.route("/search")
def search() -> str:
    """The group's pages, news and documents that match, as the viewer may see them."""
    query = (request.args.get("q") or "")[:200]
    return render_template("content/search.html", q=query, lang=reader_language(),
                           found=content_search.find(query, _viewer()))


# --- Pages: editing --------------------------------------------------------------------------


@bp.route("/admin/pages/")
@editor_required
def admin_pages() -> str:
    return render_template("content/admin_pages.html",
                           pages=services.tree(services.all_pages()),
                           lang=reader_language(), form=EmptyForm())


def _page_form(page_id: int | None) -> Any:
    page = services.get_page(page_id) if page_id is not None else None
    form = PageForm(obj=None)
    if page is not None and request.method == "GET":
        form.slug.data = page.slug
        form.visibility.data = page.visibility
        form.placement.data = page.placement
        form.parent_id.data = str(page.parent_id or "")
        form.position.data = page.position
        for text in page.texts:
            getattr(form, f"title_{text.lang}").data = text.title
            getattr(form, f"body_{text.lang}").data = text.body
    form.parent_id.choices = parent_choices(services.tree(services.all_pages()),
                                            reader_language(), page_id)
    done = submit(
        form,
        lambda: services.save_page(current_user, page_id, services.PageInput(
            slug=(form.slug.data or "").strip().lower(), visibility=form.visibility.data,
            placement=form.placement.data, parent_id=form.parent(),
            position=form.position.data or 0, texts=form.texts())),
        success=lambda saved: url_for("content.admin_page", page_id=saved.id),
        message=_("The page is saved."))
    return done or render_template("content/admin_page.html", form=form, page=page,
                                   actions=EmptyForm())


@bp.route("/admin/pages/new", methods=["GET", "POST"])
@editor_required
def admin_page_new() -> Any:
    return _page_form(None)


@bp.route("/admin/pages/<int:page_id>", methods=["GET", "POST"])
@editor_required
def admin_page(page_id: int) -> Any:
    return _page_form(page_id)


def _posted_id(name: str = "id") -> int:
    """A button's target, from its form (the buttons post to fixed addresses): the CSRF
    token is checked first; a missing or bad number is a 400."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    value = request.form.get(name, "")
    if not value.isdigit() or len(value) > 12:
        abort(400)
    if not 0 < int(value) <= services.MAX_ID:
        abort(404)
    return int(value)


def _button(page_id: int, action: Callable[[], Any], message: str) -> Response:
    back = url_for("content.admin_page", page_id=page_id)
    return act(action, back=back, message=message, propagate=(PermissionDenied, NotFound))


@bp.post("/admin/pages/publish")
@editor_required
def admin_page_publish() -> Response:
    page_id = _posted_id()
    return _button(page_id, lambda: services.set_page_state(current_user, page_id,
                                                            State.PUBLISHED),
                   _("The page is published."))


@bp.post("/admin/pages/unpublish")
@editor_required
def admin_page_unpublish() -> Response:
    page_id = _posted_id()
    return _button(page_id, lambda: services.set_page_state(current_user, page_id,
                                                            State.DRAFT),
                   _("The page is a draft again: only editors see it."))


@bp.route("/admin/pages/<int:page_id>/delete", methods=["GET", "POST"])
@editor_required
def admin_page_delete(page_id: int) -> Any:
    """A confirmation page first; the page's revisions stay."""
    page = services.get_page(page_id)
    form = EmptyForm()
    done = submit(form, lambda: services.delete_page(current_user, page_id),
                  success=url_for("content.admin_pages"),
                  message=_("The page is deleted; its revisions are kept."))
    return done or render_template("content/admin_page_delete.html", page=page, form=form,
                                   lang=reader_language())


@bp.route("/admin/pages/<int:page_id>/revisions")
@editor_required
def admin_page_revisions(page_id: int) -> str:
    page = services.get_page(page_id)
    revisions = services.revisions(page)
    compare = None
    a = request.args.get("a", type=int)
    b = request.args.get("b", type=int)
    if a is None and b is None and len(revisions) >= 2:
        a, b = revisions[1].number, revisions[0].number
    if a is not None and b is not None:
        try:
            old, new = services.get_revision(page, a), services.get_revision(page, b)
        except NotFound:
            abort(404)
        if old.number > new.number:
            old, new = new, old
        compare = (old, new, services.diff(old, new))
    return render_template("content/admin_revisions.html", page=page, revisions=revisions,
                           compare=compare, form=EmptyForm(), lang=reader_language())


@bp.post("/admin/pages/restore")
@editor_required
def admin_page_restore() -> Response:
    page_id = _posted_id()
    number = _posted_id("number")
    return act(lambda: services.restore_revision(current_user, page_id, number),
               back=url_for("content.admin_page_revisions", page_id=page_id),
               success=url_for("content.admin_page", page_id=page_id),
               message=_("Revision %(n)d is restored (kept as a new revision).", n=number),
               propagate=(PermissionDenied, NotFound))


# --- News: editing ---------------------------------------------------------------------------


def _news_form(news_id: int | None) -> Any:
    item = services.get_news(news_id) if news_id is not None else None
    form = NewsForm(obj=item if request.method == "GET" else None)
    if item is None and request.method == "GET":
        form.news_date.data = services.utcnow().date()
    done = submit(
        form,
        lambda: services.save_news(current_user, news_id, services.NewsInput(
            title=form.title.data or "", summary=form.summary.data or "",
            body=form.body.data or "", news_date=form.news_date.data,
            pinned=bool(form.pinned.data), visibility=form.visibility.data)),
        success=lambda saved: url_for("content.admin_news_item", news_id=saved.id),
        message=_("The news item is saved."))
    return done or render_template("content/admin_news_item.html", form=form, item=item,
                                   actions=EmptyForm())


@bp.route("/admin/news/")
@editor_required
def admin_news() -> str:
    return render_template("content/admin_news.html",
                           result=services.news_page(current_user,
                                                     request.args.get("page", 1, type=int)))


@bp.route("/admin/news/new", methods=["GET", "POST"])
@editor_required
def admin_news_new() -> Any:
    return _news_form(None)


@bp.route("/admin/news/<int:news_id>", methods=["GET", "POST"])
@editor_required
def admin_news_item(news_id: int) -> Any:
    return _news_form(news_id)


def _news_button(news_id: int, action: Callable[[], Any], message: str,
                 success: str | None = None) -> Response:
    return act(action, back=url_for("content.admin_news_item", news_id=news_id),
               success=success, message=message, propagate=(PermissionDenied, NotFound))


@bp.post("/admin/news/publish")
@editor_required
def admin_news_publish() -> Response:
    news_id = _posted_id()
    return _news_button(news_id, lambda: services.set_news_state(current_user, news_id,
                                                                 State.PUBLISHED),
                        _("The news item is published."))


@bp.post("/admin/news/unpublish")
@editor_required
def admin_news_unpublish() -> Response:
    news_id = _posted_id()
    return _news_button(news_id, lambda: services.set_news_state(current_user, news_id,
                                                                 State.DRAFT),
                        _("The news item is a draft again."))


@bp.post("/admin/news/delete")
@editor_required
def admin_news_delete() -> Response:
    news_id = _posted_id()
    return _news_button(news_id, lambda: services.delete_news(current_user, news_id),
                        _("The news item is deleted."), success=url_for("content.admin_news"))


# --- Documents: editing ----------------------------------------------------------------------


def _document_input(form: DocumentForm) -> services.DocumentInput:
    return services.DocumentInput(title=form.title.data or "",
                                  description=form.description.data or "",
                                  folder=form.folder.data or "",
                                  visibility=form.visibility.data,
                                  expires_on=form.expires_on.data)


@bp.route("/admin/documents/new", methods=["GET", "POST"])
@editor_required
def admin_document_new() -> Any:
    form = UploadForm()

    def upload() -> Any:
        upload = form.file.data
        name = getattr(upload, "filename", "") or ""
        content = b""
        if upload:
            # The parser spooled a large upload to a temporary file: close it at once.
            with upload.stream as stream:
                content = stream.read(files.MAX_DOCUMENT_BYTES + 1)
        return services.upload_document(current_user, _document_input(form), name, content)

    done = submit(form, upload,
                  success=lambda doc: url_for("content.document_detail", document_id=doc.id),
                  message=_("The document is added."))
    return done or render_template("content/admin_document.html", form=form, document=None)


@bp.route("/admin/documents/<int:document_id>", methods=["GET", "POST"])
@editor_required
def admin_document(document_id: int) -> Any:
    document = services.get_document(document_id)
    form = DocumentForm(obj=document if request.method == "GET" else None)
    done = submit(form, lambda: services.edit_document(current_user, document_id,
                                                       _document_input(form)),
                  success=url_for("content.document_detail", document_id=document_id),
                  message=_("The document is saved."))
    return done or render_template("content/admin_document.html", form=form,
                                   document=document, actions=EmptyForm())


@bp.post("/admin/documents/delete")
@editor_required
def admin_document_delete() -> Response:
    document_id = _posted_id()
    try:
        stored = services.delete_document(current_user, document_id)
    except (PermissionDenied, NotFound):
        db.session.rollback()
        raise
    db.session.commit()
    files.path_of(stored).unlink(missing_ok=True)
    flash(_("The document is deleted."), "success")
    return see_other(url_for("content.documents_index"))


# --- The content editor role -----------------------------------------------------------------


@bp.route("/admin/content/editors", methods=["GET", "POST"])
@admin_required
def admin_editors() -> Any:
    from lets_site.members.models import Member

    form = EditorForm()

    def grant() -> Any:
        code = (form.code.data or "").strip().upper()
        member = db.session.scalar(select(Member).where(Member.account_code == code))
        if member is None:
            raise DomainError(_("No member has this account code."), field="code")
        services.set_editor(current_user, member, True)
        return member

    done = submit(form, grant, success=url_for("content.admin_editors"),
                  message=_("The member is now a content editor."))
    return done or render_template("content/admin_editors.html", form=form,
                                   editors=services.editors(), actions=EmptyForm())


@bp.post("/admin/content/editors/<int:member_id>/remove")
@admin_required
def admin_editor_remove(member_id: int) -> Response:
    from lets_site.members.models import Member

    if not EmptyForm().validate_on_submit():
        abort(400)
    member = db.session.get(Member, member_id) if 0 < member_id <= services.MAX_ID else None
    if member is None:
        abort(404)
    return act(lambda: services.set_editor(current_user, member, False),
               back=url_for("content.admin_editors"),
               message=_("The member is no longer a content editor."))
