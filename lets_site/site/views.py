from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user

from lets_site import features, fragments
from lets_site.extensions import csrf, db
from lets_site.locale import LANG_COOKIE
from lets_site.members import services as members
from lets_site.members.models import Member
from lets_site.site import health, services
from lets_site.site.forms import LANGUAGE_NAMES, LanguageForm, SettingsForm
from lets_site.web.forms import safe_next, see_other
from lets_site.web.pagecache import no_page_cache
from lets_site.web.security import admin_required
from lets_site.web.submit import submit

bp = Blueprint("site", __name__)


def _viewer() -> Member | None:
    return current_user if current_user.is_authenticated else None  # type: ignore[return-value]


@bp.route("/")
def home() -> str:
    return render_template("site/home.html", panels=_home_panels(_viewer()))


def _home_panels(viewer: Member | None) -> list[tuple[str | None, Any]]:
    """(template, data) for each home panel with something to show; a shared panel
    (``Panel.shared``) comes as (None, its HTML), kept per process for everyone with the
    same roles and language (lets_site/fragments.py) until a write or the next lapse. When
    a feature's items are addressed to one member, "new on the site" differs per member:
    the kept panels are then kept per member."""
    who = fragments.audience()
    if viewer is not None and not features.items_depend_on_roles_only():
        who = f"{who}:{viewer.id}"
    locale = str(get_locale())
    shown: list[tuple[str | None, Any]] = []
    for panel in features.offered_panels(features.HOME):
        if not panel.shared:
            data = panel.data(None, viewer)
            if data is not None:
                shown.append((panel.template, data))
            continue
        html = fragments.fragment(("home", panel.template, who, locale),
                                  partial(_render_panel, panel, viewer),
                                  lapses=features.next_lapse)
        if html:
            shown.append((None, html))
    return shown


def _render_panel(panel: features.Panel, viewer: Member | None) -> str:
    data = panel.data(None, viewer)
    return "" if data is None else render_template(panel.template, panel=data)


# No CSRF token: the switcher is in every page's footer, and a per-visitor token there would
# make every page uncacheable (lets_site/web/pagecache.py). A forged switch can only change
# a display preference (the lang cookie, and a logged-in member's saved language); it moves
# no money and reveals nothing. It stays a POST, so links and prefetching cannot trigger it.
@csrf.exempt
@bp.route("/language", methods=["GET", "POST"])
def language() -> Response | str:
    """Choosing a language: a POST from the switcher in every page's footer; the GET page
    lists the same buttons for browsers that land here."""
    form = LanguageForm(meta={"csrf": False})
    if form.validate_on_submit() and form.lang.data in LANGUAGE_NAMES:
        lang = form.lang.data
        if current_user.is_authenticated:
            members.set_locale(current_user, lang)
            db.session.commit()
        response = see_other(safe_next(form.next.data, url_for("site.home")))
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax", httponly=True,
            secure=request.is_secure,
        )
        refresh()
        return response
    return render_template("site/language.html", languages=LANGUAGE_NAMES)


@bp.route("/healthz")
@no_page_cache
def healthz() -> Response:
    """For uptime monitors: plain text, one line per check; 200 when every check is ok,
    else 503. Never cached, no cookie, no private data (lets_site/site/health.py)."""
    found = health.checks(current_app._get_current_object())  # type: ignore[attr-defined]
    body = "".join(check.line() + "\n" for check in found)
    response = Response(body, status=200 if all(c.ok for c in found) else 503,
                        mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/")
@admin_required
def admin_index() -> str:
    return render_template("site/admin_index.html", links=features.admin_links(current_user))


@bp.route("/admin/settings", methods=["GET", "POST"])
@admin_required
def admin_settings() -> Response | str:
    settings = services.get_settings()
    form = SettingsForm(obj=settings)
    done = submit(form, lambda: services.update_settings(current_user, form.settings_data()),
                  success=url_for("site.admin_settings"),
                  message=_("The settings are saved."))
    return done or render_template("site/settings.html", form=form,
                                   language_names=LANGUAGE_NAMES)
