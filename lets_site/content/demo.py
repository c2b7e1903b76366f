from __future__ import annotations

from lets_site.features import DemoContext


def seed(ctx: DemoContext) -> None:
    """Filled in below."""

