"""Which language and time zone a page is shown in (base layer: the reader's cookie, their
saved language, the browser's, then the group's; outside a request, the group's)."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user

from lets_site.settings import LANGUAGES, get_settings

LANG_COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():
        default = get_settings().default_language
        return default if default in LANGUAGES else current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best
    default = get_settings().default_language
    return default if default in LANGUAGES else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return get_settings().timezone or "Europe/Brussels"
