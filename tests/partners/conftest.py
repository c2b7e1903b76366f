from __future__ import annotations

from typing import Any

import pytest

from lets_site.extensions import db
from lets_site.partners import services
from tests import factories


@pytest.fixture
def coordinator(people: dict[str, Any]) -> Any:
    """A plain member to whom an admin gave the partner coordinator role."""
    member = factories.make_member(display_name="Cora Coordinator", locale="en")
    services.grant_coordinator(people["admin"], member.account_code)
    db.session.commit()
    return member
