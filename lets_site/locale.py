"""Which language and time zone a page is shown in (base layer: the reader's cookie, their
saved language, the browser's, then the group's; outside a request, the group's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import get_translations, refresh
from flask_login import current_user, user_logged_in

from lets_site.settings import LANGUAGES, get_settings, reader_language

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


@user_logged_in.connect
def _speak_the_language_of_who_logged_in(_sender: Any, **_extra: Any) -> None:
    """Logging in may change the page's language (the member's saved one beats the
    browser's): choose again, so what the same request still writes (the welcome message)
    is in the language of the page that follows."""
    refresh()


def _page_translations() -> NullTranslations:
    """Flask-Babel's translations for this request, kept beside the locale it chose: a page
    calls ``_()`` dozens of times, and Flask-Babel looks up its context, domain, locale
    and catalog again on each call. Kept only while the chosen locale and domain are the
    same objects, so ``force_locale`` (mail in a member's language) and ``refresh`` (after
    log-in) are followed as before."""
    try:
        ns = g.get("_flask_babel")
    except RuntimeError:  # no app context: Flask-Babel's own answer
        return get_translations()
    if ns is not None:
        kept = getattr(ns, "lets_translations", None)
        if (kept is not None and kept[0] is getattr(ns, "babel_locale", None)
                and kept[1] is getattr(ns, "babel_domain", None)):
            return kept[2]  # type: ignore[no-any-return]
    translations = get_translations()
    ns = g.get("_flask_babel")
    locale = getattr(ns, "babel_locale", None)
    if locale is not None:
        ns.lets_translations = (locale, getattr(ns, "babel_domain", None), translations)
    return translations


def install_page_gettext(app: Flask) -> None:
    """Templates' ``_()``, ``ngettext`` and friends through :func:`_page_translations` (what
    Flask-Babel installs, with the translations kept per request); after ``babel.init_app``."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _page_translations().ugettext(s),
        ngettext=lambda s, p, n: _page_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _page_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def select_timezone() -> str:
    return get_settings().timezone or "Europe/Brussels"


@dataclass(frozen=True)
class Spreadsheet:
    """How a spreadsheet in a language opens a CSV file: Excel and LibreOffice in Dutch
    and French split on semicolons and read a decimal comma; in English, commas and a
    decimal point."""

    delimiter: str
    decimal: str

    def number(self, plain: str) -> str:
        """A plain number ("-12.50") as this spreadsheet reads it ("-12,50")."""
        return plain.replace(".", self.decimal)

    @staticmethod
    def text(value: str) -> str:
        """Text a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


SPREADSHEETS = {"nl": Spreadsheet(";", ","), "fr": Spreadsheet(";", ","),
                "en": Spreadsheet(",", ".")}


def spreadsheet(lang: str | None = None) -> Spreadsheet:
    """The CSV conventions of ``lang`` (default: the reader's language)."""
    return SPREADSHEETS.get(lang or reader_language(), SPREADSHEETS["nl"])
