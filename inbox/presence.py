"""Collision detection: who else has a ticket open, who is writing a reply to it, and whether the
thread changed under a reply being sent.

**Presence** lives in the cache (Redis in production), never in the database: an open ticket
posts a heartbeat every `HEARTBEAT_SECONDS` ("viewing", or "replying" while the reply box holds a
draft) and each entry expires `EXPIRY_SECONDS` after its last beat, so a closed tab disappears by
itself. One cache key per ticket holds its people ({user id: [name, state, expires]}); the list
reads the keys of its page's tickets in one `get_many` for its "X is replying" marker. Two agents
beating at the same instant may overwrite each other's entry until the next beat (a few seconds);
presence is a hint, not a lock. A change of who is replying somewhere bumps the organisation's
presence generation, part of the list's change stamp, so a polling list redraws its markers
(someone merely opening a ticket does not: the list shows replies being written, not viewers).

**A stale reply**: the composer carries the newest message the agent was shown
(`last_seen_message_id`). A reply sent after the buyer wrote, or a teammate (or Seller Center)
replied, since then is refused as a conflict with the draft kept: the agent reviews, then sends.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import F, Q

from .models import Conversation, Message, MessageDirection

HEARTBEAT_SECONDS = 5
EXPIRY_SECONDS = 15
STATES = ("viewing", "replying")


class PresenceError(ValueError):
    pass


@dataclass(frozen=True)
class Presence:
    user_id: int
    name: str
    state: str  # "viewing" or "replying"


def _key(conversation_id: int) -> str:
    return f"presence:ticket:{conversation_id}"


def _generation_key(tenant_id: int) -> str:
    return f"presence:generation:{tenant_id}"


def _alive(entries: dict[int, list[Any]] | None, now: float) -> dict[int, list[Any]]:
    return {user: entry for user, entry in (entries or {}).items() if entry[2] > now}


def heartbeat(
    *, conversation_id: int, tenant_id: int, user_id: int, name: str, state: str
) -> list[Presence]:
    """This person is on the ticket (`state` "viewing"/"replying", or "gone" when they leave);
    returns everybody else there. The caller has checked that the ticket is theirs to see."""
    if state not in (*STATES, "gone"):
        raise PresenceError("State is viewing, replying or gone.")
    now = time.time()
    key = _key(conversation_id)
    entries = _alive(cache.get(key), now)
    before = {user for user, entry in entries.items() if entry[1] == "replying"}
    if state == "gone":
        entries.pop(user_id, None)
    else:
        entries[user_id] = [name, state, now + EXPIRY_SECONDS]
    if entries:
        cache.set(key, entries, EXPIRY_SECONDS)
    else:
        cache.delete(key)
    if before != {user for user, entry in entries.items() if entry[1] == "replying"}:
        _bump(tenant_id)  # the list's "replying" markers change
    return [
        Presence(user, entry[0], entry[1]) for user, entry in entries.items() if user != user_id
    ]


def _bump(tenant_id: int) -> None:
    key = _generation_key(tenant_id)
    try:
        cache.incr(key)
    except ValueError:  # no such key yet (or expired)
        cache.set(key, 1, None)


def generation(tenant_id: int) -> int:
    return int(cache.get(_generation_key(tenant_id)) or 0)


def others_on(conversation_id: int, *, user_id: int | None) -> list[Presence]:
    entries = _alive(cache.get(_key(conversation_id)), time.time())
    return [Presence(u, e[0], e[1]) for u, e in entries.items() if u != user_id]


def replying_on(conversation_ids: list[int], *, user_id: int | None) -> dict[int, list[str]]:
    """{ticket pk: names of the others writing a reply to it} for a page of the list, in one
    cache round trip."""
    if not conversation_ids:
        return {}
    now = time.time()
    found = cache.get_many([_key(pk) for pk in conversation_ids])
    replying: dict[int, list[str]] = {}
    for pk in conversation_ids:
        names = [
            entry[0]
            for user, entry in _alive(found.get(_key(pk)), now).items()
            if user != user_id and entry[1] == "replying"
        ]
        if names:
            replying[pk] = sorted(names)
    return replying


def sentence(people: list[Presence]) -> str:
    """ "Ana is replying · Ben is viewing" (replying first)."""
    ordered = sorted(people, key=lambda p: (p.state != "replying", p.name))
    return " · ".join(f"{p.name} is {p.state}" for p in ordered)


# --- Stale replies ------------------------------------------------------------------------------


def newest_message_id(conversation: Conversation) -> str:
    """The public id of the newest message of the ticket ("" for none): what the composer says
    the agent has seen."""
    # Sorted on `pk + 0`, not `pk`: with ORDER BY id PostgreSQL walked the primary key backwards
    # from the table's newest message until it met this ticket's (1.3 s for a ticket whose
    # messages are old among 1,000,000, bench/mailbox.py); this way it reads the ticket's own
    # messages through message_conv_index and sorts those.
    newest = (
        Message.objects.filter(conversation=conversation)
        .order_by((F("pk") + 0).desc())
        .values_list("public_id", flat=True)
        .first()
    )
    return str(newest) if newest else ""


def new_since(
    *, conversation: Conversation, last_seen_message_id: str, author_id: int | None
) -> int:
    """How many messages the buyer, a teammate or the seller's other tools added after
    `last_seen_message_id` ("" = the ticket had none); the agent's own are not news to them.
    An id that is not one of this ticket's messages raises PresenceError."""
    after = 0
    if last_seen_message_id:
        try:
            wanted = uuid.UUID(str(last_seen_message_id))
        except ValueError as error:
            raise PresenceError("No such message in this ticket.") from error
        seen = (
            Message.objects.filter(conversation=conversation, public_id=wanted)
            .values_list("pk", flat=True)
            .first()
        )
        if seen is None:
            raise PresenceError("No such message in this ticket.")
        after = seen
    news = Message.objects.filter(conversation=conversation, pk__gt=after, is_visible=True).filter(
        Q(direction=MessageDirection.INBOUND)
        | Q(direction=MessageDirection.OUTBOUND) & ~Q(author_id=author_id)
        if author_id is not None
        else Q(direction__in=[MessageDirection.INBOUND, MessageDirection.OUTBOUND])
    )
    return news.count()
