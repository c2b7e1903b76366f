"""Binds extensions, the features and request hooks to the app (called by create_app).

:func:`features` is the site's one list of features, one line each: a new feature is its
folder (with ``feature.py``) plus one line here.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from lets_site import features as contract
from lets_site import fragments
from lets_site.database import include_object
from lets_site.extensions import babel, compress, csrf, db, htmx, login_manager, migrate
from lets_site.locale import install_page_gettext, select_locale, select_timezone
from lets_site.settings import get_settings
from lets_site.web import assets, errors, guard, pagecache, security, sessions, urls
from lets_site.web.text import one_full_stop, render_markdown
from lets_site.web.urls import cached_url_for, with_query

_CONDITIONAL_TYPES = {"text/html", "application/json", "application/feed+json", "text/calendar"}


# The site's features, in order (blueprints, menus, panels and demo steps follow it).
FEATURES = (
    "lets_site.site.feature",
    "lets_site.members.feature",
    "lets_site.organisations.feature",
    "lets_site.audit.feature",
    "lets_site.ledger.feature",
    "lets_site.offers.feature",
    "lets_site.partners.feature",
    "lets_site.events.feature",
    "lets_site.books.feature",
    "lets_site.content.feature",
    "lets_site.feed.feature",
    "lets_site.digests.feature",
    "lets_site.federation.feature",
    "lets_site.notifications.feature",
    "lets_site.moving.feature",
)


def features() -> list[contract.Feature]:
    """The feature descriptions: the ``FEATURE`` of each module in :data:`FEATURES`."""
    return [import_module(name).FEATURE for name in FEATURES]


def init_app(app: Flask, migrations: Path,
             extra_features: Sequence[contract.Feature] = ()) -> None:
    # Before any route is added: ids in URLs stay within the database's range.
    app.url_map.converters["int"] = urls.IdConverter
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
    sessions.init_app(app)  # the session cookie and the CSRF token, once per process
    htmx.init_app(app)
    compress.init_app(app)

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_page_gettext(app)  # templates' _(): translations kept per request

    # Who is logged in is the members feature's question (its setup gives the loader).
    login_manager.init_app(app)
    login_manager.login_message = _l("Log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    contract.install(app, [*features(), *extra_features])
    errors.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    fragments.init_app(app)

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["one_full_stop"] = one_full_stop
    app.jinja_env.globals["with_query"] = with_query
    app.jinja_env.globals["url_for"] = cached_url_for  # paths built once per process
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject() -> dict[str, Any]:
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
