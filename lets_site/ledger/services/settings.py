"""The group's ledger settings (unit, default limits, whether balances are visible), read
once per process until someone writes (``lets_site.settings.shared``). Changing them is
:func:`~lets_site.ledger.services.accounts.update_settings`.
"""

from __future__ import annotations

from lets_site.extensions import db
from lets_site.ledger.models import LedgerSettings
from lets_site.settings import cached, detached_copy, shared

SETTINGS_ID = 1
_SETTINGS_KEY = "lets.ledger_settings"


def get_settings() -> LedgerSettings:
    """The group's ledger settings (unsaved defaults until an admin saves them). Kept for
    the rest of the request: a page formats many amounts."""
    return cached(_SETTINGS_KEY, _load_settings)


def _load_row() -> LedgerSettings | None:
    row = db.session.get(LedgerSettings, SETTINGS_ID)
    return None if row is None else detached_copy(row)


def _load_settings() -> LedgerSettings:
    # The row is kept per process until someone writes (``lets_site.settings.shared``);
    # each request gets its own copy of it.
    row = shared("ledger.settings.row", _load_row)
    settings = None if row is None else detached_copy(row)
    if settings is None:
        settings = LedgerSettings(id=SETTINGS_ID, decimals=0, default_min=-300, default_max=300,
                                  balances_visible=False)
    return settings
