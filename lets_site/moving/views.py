"""The admin's import page (upload, preview, confirm) and the full export download.

The preview survives without JavaScript: the uploaded files are kept under
``instance/moving/<token>/`` and the preview page, at its own URL, reads them again; the
confirmation posts to that URL. After the import the folder is removed."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from lets_site import portable
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.moving import services
from lets_site.moving.forms import EmptyForm, UploadForm
from lets_site.web.forms import see_other
from lets_site.web.security import admin_required
from lets_site.web.submit import act

bp = Blueprint("moving", __name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FILES = 10
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# The preview's words for the kinds of files and of what is created.
LABELS = {
    "members": _l("Members"), "organisations": _l("Organisations"),
    "categories": _l("Categories"), "ads": _l("Offers and wants"), "offers": _l("Offers"),
    "wants": _l("Wants"), "transactions": _l("Transactions"),
    "opening_balances": _l("Opening balances"), "contacts": _l("Contacts"),
}
# The headings of the preview's first rows (services' sample keys), in the reader's words.
COLUMNS = {
    "code": _l("Account"), "name": _l("Name"), "status": _l("Status"),
    "parent": _l("Parent"), "type": _l("Type"), "owner": _l("Owner"), "title": _l("Title"),
    "date": _l("Date"), "from": _l("From"), "to": _l("To"), "amount": _l("Amount"),
    "value": _l("Value"),
}


def _root() -> Path:
    return Path(current_app.instance_path) / "moving"


def _folder(token: str) -> Path:
    if not _TOKEN.match(token):
        abort(404)
    folder = _root() / token
    if not (folder / "names.json").is_file():
        abort(404)
    return folder


def _stored(folder: Path) -> list[tuple[str, bytes]]:
    names = json.loads((folder / "names.json").read_text(encoding="utf-8"))
    return [(name, (folder / f"{i}.csv").read_bytes()) for i, name in enumerate(names)]


@bp.route("/admin/import", methods=["GET", "POST"])
@admin_required
def upload() -> Response | str:
    form = UploadForm()
    if form.validate_on_submit():
        uploads = [f for f in form.files.data or [] if getattr(f, "filename", "")]
        if not uploads or len(uploads) > MAX_FILES:
            form.files.errors = [_("Choose between 1 and %(n)d files.", n=MAX_FILES)]
        else:
            token = secrets.token_urlsafe(24)
            folder = _root() / token
            folder.mkdir(parents=True)
            names = []
            for i, upload_file in enumerate(uploads):
                data = upload_file.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    shutil.rmtree(folder)
                    form.files.errors = [_("A file is larger than 50 MB.")]
                    break
                (folder / f"{i}.csv").write_bytes(data)
                names.append(Path(upload_file.filename).name[:120])
            else:
                (folder / "names.json").write_text(json.dumps(names), encoding="utf-8")
                return see_other(url_for("moving.preview", token=token))
    return render_template("moving/upload.html", form=form, new=services.site_is_new())


@bp.route("/admin/import/check/<token>", methods=["GET", "POST"])
@admin_required
def preview(token: str) -> Response | str:
    folder = _folder(token)
    form = EmptyForm()
    files = _stored(folder)
    if form.validate_on_submit():
        try:
            result = services.run_import(current_user, files)
        except services.ImportRefused as refused:
            db.session.rollback()
            flash(str(refused.message), "error")
            return see_other(url_for("moving.preview", token=token))
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return see_other(url_for("moving.preview", token=token))
        db.session.commit()
        shutil.rmtree(folder, ignore_errors=True)
        flash(_("Imported: %(members)d members, %(transfers)d transfers.",
                members=result.counts.get("members", 0),
                transfers=result.counts.get("transactions", 0)
                + result.counts.get("opening_balances", 0)), "success")
        return see_other(url_for("moving.done"))
    result = services.preview(files, current_user)
    db.session.rollback()
    return render_template("moving/preview.html", result=result, form=form, token=token,
                           labels=LABELS, columns=COLUMNS)


@bp.route("/admin/import/done")
@admin_required
def done() -> str:
    return render_template("moving/done.html", invitable=len(services.invitable(current_user)),
                           form=EmptyForm())


@bp.route("/admin/import/invite", methods=["POST"])
@admin_required
def invite() -> Response:
    back = url_for("moving.done")
    if not EmptyForm().validate_on_submit():
        return see_other(back)
    return act(lambda: services.invite_imported(current_user), back=back,
               message=lambda n: _("Invitations sent: %(n)d.", n=n))


@bp.route("/admin/export")
@admin_required
def export() -> str:
    return render_template("moving/export.html")


@bp.route("/admin/export.zip")
@admin_required
def export_zip() -> Response:
    handle = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)  # noqa: SIM115
    handle.close()
    target = Path(handle.name)
    portable.write_export(target, as_zip=True)
    db.session.rollback()
    response = send_file(target, mimetype="application/zip", as_attachment=True,
                         download_name="lets-site-export.zip", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.call_on_close(lambda: target.unlink(missing_ok=True))
    return response
