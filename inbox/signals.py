"""Signals for apps above the mailbox (triage), so that inbox never imports them.

`buyer_messages_stored` is sent inside the ingest transaction with `tenant_id` and `message_ids`
(the new buyer messages that want an answer). A receiver only schedules its work (after commit);
a receiver that fails is logged and never fails the ingest.
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

buyer_messages_stored = Signal()


def buyer_messages_stored_send(*, tenant_id: int, message_ids: list[int]) -> None:
    if not message_ids:
        return
    for receiver, result in buyer_messages_stored.send_robust(
        sender=None, tenant_id=tenant_id, message_ids=message_ids
    ):
        if isinstance(result, Exception):
            logger.error("A receiver of buyer_messages_stored failed (%s): %r", receiver, result)
