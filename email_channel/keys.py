"""How an e-mail is named in the mailbox: its key (Message.external_id), its place in a thread
(Message.index_key) and the ticket token of reply addresses. Pure functions, no I/O."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

# support+t1a2b3c4d5e6f7a8b@shop.example: the token is the ticket's external id.
TOKEN_PREFIX = "t"  # noqa: S105  (a ticket token, not a password)
TOKEN_PATTERN = re.compile(r"^t[0-9a-f]{16}$")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_hex(8)


def normalized_message_id(value: str | None) -> str:
    """'<ABC@host>' -> 'abc@host' (Message-IDs compare without brackets, case-insensitively)."""
    return (value or "").strip().strip("<>").strip().lower()


def message_key(message_id: str) -> str:
    """The key of an e-mail by its Message-ID: the same mail read twice (a re-poll, a crash
    between fetch and store, the same mail in two folders) has one key and is stored once."""
    digest = hashlib.sha256(normalized_message_id(message_id).encode()).hexdigest()
    return f"m:{digest[:40]}"


def content_key(raw: bytes) -> str:
    """The key of an e-mail without a Message-ID: its bytes (they do not change between reads)."""
    return f"h:{hashlib.sha256(raw).hexdigest()[:40]}"


def message_ids_in(header: str | None) -> list[str]:
    """The Message-IDs of an In-Reply-To or References header, in order."""
    return [found for found in re.findall(r"<([^<>\s]+)>", header or "")]


def time_index(moment: datetime) -> str:
    """The thread position of an e-mail: microseconds since 1970 (16 digits until 2286)."""
    return str(int(moment.astimezone(UTC).timestamp() * 1_000_000))


def buyer_key(address: str) -> str:
    """Customer.buyer_user_id of an address (64 characters at most: long ones are hashed)."""
    address = address.strip().lower()
    if len(address) <= 64:
        return address
    return "sha256:" + hashlib.sha256(address.encode()).hexdigest()[:57]
