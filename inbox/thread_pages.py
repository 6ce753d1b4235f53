"""A long thread in pages, as chat inboxes show it: a ticket opens on its newest entries
(`selectors.thread_window`) and "Show earlier" brings the page before the oldest one on screen,
added above it, so no request draws the whole thread.

A page is named by its first message (`public_id`): entries before a page's first message are
exactly those the whole thread (`selectors.thread`) has before it, so pages fit together without
a gap or an entry twice, whatever arrived since. A page starts at a message, never at a history
event, so that the next page has a message to name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from .models import Conversation
from .selectors import ThreadEntry, thread

PAGE = 50


@dataclass(frozen=True, slots=True)
class ThreadSlice:
    entries: list[ThreadEntry]
    hidden: int  # how many entries come before the first one


def first_message_id(entries: list[ThreadEntry]) -> str:
    """The public id of the slice's first message: the name of what is on screen."""
    for entry in entries:
        if entry.message is not None:
            return str(entry.message.public_id)
    return ""


def starting_at_a_message(entries: list[ThreadEntry], hidden: int) -> ThreadSlice:
    """The newest entries as read (`thread_window`), less the history events before their first
    message, which join the earlier page (it ends where this one starts)."""
    start = 0
    while start < len(entries) and entries[start].message is None:
        start += 1
    if start == len(entries) or hidden == 0:
        return ThreadSlice(entries=entries, hidden=hidden)
    return ThreadSlice(entries=entries[start:], hidden=hidden + start)


def _position(entries: list[ThreadEntry], public_id: str) -> int | None:
    try:
        wanted = uuid.UUID(public_id)
    except ValueError:
        return None  # not an id: the caller falls back to the newest entries
    for position, entry in enumerate(entries):
        if entry.message is not None and entry.message.public_id == wanted:
            return position
    return None


def _page_start(entries: list[ThreadEntry], end: int, size: int) -> int:
    """Where the page of about `size` entries before `end` starts: back to a message (a page
    starting on history events takes them in), or the thread's start."""
    start = max(0, end - size)
    while start > 0 and entries[start].message is None:
        start -= 1
    return start


def since(*, conversation: Conversation, first: str) -> ThreadSlice | None:
    """Everything from message `first` on: what is on screen after some "Show earlier" clicks,
    redrawn by a poll that found changes. None when `first` is not a message of this thread."""
    entries = thread(conversation=conversation)
    at = _position(entries, first)
    if at is None:
        return None
    if not any(entry.message is not None for entry in entries[:at]):
        at = 0  # only history before it: no page to name, so it stays on screen
    return ThreadSlice(entries=entries[at:], hidden=at)


def earlier(
    *, conversation: Conversation, before: str, size: int = PAGE, through_end: bool = False
) -> ThreadSlice | None:
    """The page before message `before` (what "Show earlier" adds above it), and how many
    entries are still hidden before that page. `through_end`: that page and everything after it,
    for the link without JavaScript, which redraws the whole page. None when `before` is not a
    message of this thread."""
    entries = thread(conversation=conversation)
    at = _position(entries, before)
    if at is None:
        return None
    start = _page_start(entries, at, size)
    return ThreadSlice(entries=entries[start:] if through_end else entries[start:at], hidden=start)
