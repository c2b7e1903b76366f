"""Account codes (like ``IE-042``) are unique across members and member organisations.

Each feature that hands out codes says so in its feature description (``account_codes``, a
check ``is_taken(code)``); :func:`is_taken` asks all of them, so that no feature has to
import another's models to know whether a code is free.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from lets_site import features
from lets_site.domain import DomainError

CODE_RE = re.compile(r"^[A-Z]{1,6}-[A-Z0-9]{1,8}$")


def normalise(code: str) -> str:
    return code.strip().upper()


def is_valid(code: str) -> bool:
    return bool(CODE_RE.match(normalise(code)))


def is_taken(code: str) -> bool:
    code = normalise(code)
    return features.account_code_taken(code)


def check_new(code: str) -> str:
    """The normalised code if it is well formed and free; a DomainError otherwise."""
    code = normalise(code)
    if not is_valid(code):
        raise DomainError(
            _l("An account code looks like IE-042: letters, a dash, letters or digits."),
            field="account_code",
        )
    if is_taken(code):
        raise DomainError(
            _l("Account code %(code)s is already in use.", code=code), field="account_code"
        )
    return code
