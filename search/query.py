"""What an agent typed into a search box, read once for every search (mailbox, Orders, API).

Input is read, never passed on as query syntax: the words are runs of letters and digits
(punctuation, operators such as `&`, `|`, `:*`, quotes, NUL bytes and emoji are separators), so
no text can make a query that the database refuses. Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What a search reads of what was typed: longer input is cut here (a pasted paragraph searches
# for its first words), never refused.
MAX_CHARS = 200
MAX_WORDS = 12
MAX_WORD_CHARS = 64

MASK_PREFIX = "tiktok shop customer "
_WORDS = re.compile(r"[^\W_]+")
_HEX_LABEL = re.compile(r"^[0-9a-f]{6}$")
# TikTok order ids are 15-20 digit numbers (contract §4); buyer user ids are numbers too.
_ORDER_ID = re.compile(r"^\d{15,20}$")
_TICKET_NUMBER = re.compile(r"^#?(\d{1,9})$")


@dataclass(frozen=True)
class SearchQuery:
    """One search, read. `words` feed the full-text match; the other fields are exact lookups
    through their own indexes (ticket number, order id, buyer)."""

    text: str  # what was typed, cleaned and cut to MAX_CHARS (shown back to the agent)
    words: tuple[str, ...] = ()
    ticket_number: int | None = None
    order_id: str = ""  # also tried as a buyer user id (both are long numbers)
    buyer_label: str = ""  # the 6 hex characters of a masked label ("TikTok Shop Customer 853d82…")

    def __bool__(self) -> bool:
        return bool(self.words or self.ticket_number or self.order_id or self.buyer_label)

    @property
    def terms(self) -> str:
        """The words as one plain string for plainto_tsquery (letters, digits and spaces only)."""
        return " ".join(self.words)

    @property
    def has_exact(self) -> bool:
        return bool(self.ticket_number or self.order_id or self.buyer_label)


def parse(raw: object) -> SearchQuery:
    """The search in `raw` (any text; None and non-strings read as no search)."""
    if not isinstance(raw, str):
        return SearchQuery(text="")
    text = " ".join(raw.replace("\x00", " ").split())[:MAX_CHARS]
    lowered = text.lower()
    words = tuple(word[:MAX_WORD_CHARS] for word in _WORDS.findall(lowered)[:MAX_WORDS])
    if not words:
        return SearchQuery(text=text)
    whole = lowered.strip()
    number = _TICKET_NUMBER.match(whole)
    label = whole.removeprefix(MASK_PREFIX).removeprefix("customer ").rstrip("…. ")
    buyer_label = label if _HEX_LABEL.match(label) else ""
    return SearchQuery(
        text=text,
        # A masked label searches for its code: "TikTok Shop Customer" is in no document.
        words=(buyer_label,) if buyer_label else words,
        ticket_number=int(number.group(1)) if number and int(number.group(1)) > 0 else None,
        order_id=whole if _ORDER_ID.match(whole) else "",
        buyer_label=buyer_label,
    )
