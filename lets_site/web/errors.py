"""Error pages: a full page, an htmx partial, or JSON, as the client asks."""

from __future__ import annotations

import errno

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from lets_site.domain import NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.web import htmx

SQLITE_FULL = 13  # sqlite3.SQLITE_FULL, the error code of "database or disk is full"

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("You do not have permission to do this.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (
        _l("Too large"),
        _l("What you sent is too large. Make files smaller and try again."),
    ),
    429: (_l("Too many requests"), _l("Please wait a moment and try again.")),
    507: (
        _l("The disk is full"),
        _l("The server's disk is full, so this was not saved. Please try again later; if it "
           "lasts, tell the group's admins."),
    ),
    500: (
        _l("Something went wrong"),
        _l("The site made an error. Your last change may not have been saved; please try "
           "again. The admins have been told."),
    ),
}


def is_disk_full(error: BaseException | None) -> bool:
    """The error, or the database error it wraps, says the disk is full: SQLite's
    SQLITE_FULL, PostgreSQL's disk_full (53100), or ENOSPC from a file write."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if getattr(error, "sqlite_errorcode", None) == SQLITE_FULL:
            return True
        if getattr(error, "sqlstate", None) == "53100":
            return True
        error = getattr(error, "orig", None) or error.__cause__
        seen += 1
    return False


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def render_error(status: int, message: object | None = None) -> Response:
    title, default = MESSAGES.get(status, MESSAGES[500])
    text = str(message) if message is not None else str(default)
    if _wants_json():
        response = jsonify(error={"status": status, "title": str(title), "message": text})
        response.status_code = status
        return response
    template = "errors/_error.html" if htmx.wants_partial() else "errors/error.html"
    response = make_response(
        render_template(template, status=status, title=title, message=text), status
    )
    return htmx.add_vary(response)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        return render_error(
            400,
            _l("This form had expired or did not come from this site, so nothing was saved. "
               "Go back, reload the page and send it again."),
        )

    @app.errorhandler(PermissionDenied)
    def permission_denied(error: PermissionDenied) -> Response:
        return render_error(403, error.message)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound) -> Response:
        return render_error(404, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status in MESSAGES:
            return render_error(status)
        return error.get_response()

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> Response:
        # The failed transaction must not break the error page's own queries.
        db.session.rollback()
        if is_disk_full(error.original_exception):
            return render_error(507)
        return render_error(500)
