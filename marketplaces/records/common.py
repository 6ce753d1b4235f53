"""What every area shares: the JSON type, money, a page of a cursor-paginated listing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

JSON = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a cursor-paginated listing.

    `page_token` is the token this page was requested with (None for the first page) and
    `next_page_token` the one to resume from; "" means this was the last page. A caller that
    stores `next_page_token` as its checkpoint resumes exactly after this page.
    """

    items: list[T]
    next_page_token: str
    total_count: int | None
    page_token: str | None = None

    @property
    def is_last(self) -> bool:
        return not self.next_page_token
