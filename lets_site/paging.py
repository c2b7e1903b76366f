"""One page of a long list (base layer: every feature pages the same way)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

PAGE_SIZE = 20


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int = PAGE_SIZE
    # The total is a bound the count stopped at: there are more items than ``total``
    # (the pager says "Page 3 of 50 or more"; pages past the bound are not shown).
    more: bool = False

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1
