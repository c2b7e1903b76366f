"""Binds extensions, blueprints and request hooks to the app (called by create_app)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from lets_site import cli
from lets_site.database import include_object
from lets_site.extensions import babel, compress, csrf, db, htmx, login_manager, migrate
from lets_site.web import assets, errors, guard, pagecache, security
from lets_site.web.text import render_markdown
from lets_site.web.urls import with_query

_CONDITIONAL_TYPES = {"text/html", "application/json", "application/feed+json", "text/calendar"}


def init_app(app: Flask, migrations: Path) -> None:
    # Inside ProxyFix, so that its key sees the forwarded scheme and host.
    pagecache.init_app(app)
    # Inside ProxyFix too (it checks the forwarded host), outside the page cache.
    guard.init_app(app)
    if int(app.config.get("PROXY_COUNT") or 0) > 0:
        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n
        )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(migrations), render_as_batch=True,
                     include_object=include_object)
    csrf.init_app(app)
    htmx.init_app(app)
    compress.init_app(app)

    from lets_site.site.locale import select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    login_manager.init_app(app)
    login_manager.login_view = "members.login"
    login_manager.login_message = _l("Log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from lets_site.members.services import load_for_session

    login_manager.user_loader(load_for_session)

    _register_blueprints(app)
    errors.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    cli.init_app(app)

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.globals["with_query"] = with_query
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject() -> dict[str, Any]:
        from lets_site.site.services import get_settings

        return {"site": get_settings(), "current_locale": _current_locale()}

    # Registered after Compress so it runs before it: the ETag is of the plain body and
    # Flask-Compress then marks it per encoding and answers 304s.
    @app.after_request
    def conditional(response: Response) -> Response:
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        if response.mimetype == "text/html":
            response.vary.add("Cookie")
            response.vary.add("Accept-Language")
            # Pages carry a CSRF token tied to the visitor's session: never shared caches.
            response.headers.setdefault("Cache-Control", "private, no-cache")
        if (
            response.mimetype in _CONDITIONAL_TYPES
            and not response.is_streamed
            and not response.direct_passthrough
            and "ETag" not in response.headers
        ):
            response.add_etag()
            response.make_conditional(request)
        return response


def _current_locale() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return str(locale.language) if locale else "nl"


def _register_blueprints(app: Flask) -> None:
    from lets_site.audit.views import bp as audit_bp
    from lets_site.ledger.views import bp as ledger_bp
    from lets_site.members.views import bp as members_bp
    from lets_site.offers.views import bp as offers_bp
    from lets_site.organisations.views import bp as organisations_bp
    from lets_site.site.views import bp as site_bp

    for bp in (site_bp, members_bp, organisations_bp, audit_bp, ledger_bp, offers_bp):
        app.register_blueprint(bp)
