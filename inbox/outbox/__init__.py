"""Sending agents' replies: claimed, retried with backoff, never sent twice.

A reply is stored QUEUED by `services.reply_create`; `reply_send(message_id=)` (the task body)
claims it with a conditional UPDATE (queued -> sending, attempts + 1), so two workers never send
one reply, then uploads its image (IMAGE message) and sends its text (TEXT message).

Never twice: before each platform send the reply's `content["outbox"]["in_flight"]` records what
is being sent and when. A send that certainly did not happen (a refusal, a 429, a connection that
never opened) clears it; a send whose outcome is unknown (timeout, 5xx: OutcomeUnknownError) or a
worker killed mid-call leaves it, and the next attempt first *reconciles*: it looks for a message
of ours with the same type and text (or image url) created after the attempt began — among the
rows ingest already stored (the platform's copy coming back by webhook or poll) and on the
platform after the conversation's cursor — and adopts it instead of sending again. Only a message
id no other row holds can be adopted, so two identical replies never share one platform message.

Errors: rate limits, server and transport errors and unknown outcomes are retried with jittered
exponential backoff up to INBOX_SEND_MAX_ATTEMPTS, then FAILED; refusals that a retry cannot fix
(store needs re-authorization, permission, unknown conversation, invalid content) are FAILED at
once with a reason in the seller's words. The beat sweeper (`replies_to_resume`) takes back
replies left in `sending` past their lease (worker killed) or `queued` past their time (task lost).

Layout: `claims.py` (settings, SendOutcome, backoff, the claim and writes under it),
`reconciling.py` (finding an unconfirmed send's message), `sending.py` (each part sent once,
marked sent), `outcomes.py` (retry or fail, `reply_send`, the sweeper `replies_to_resume`).
"""

from __future__ import annotations

from marketplaces.channel import OutcomeUnknownError

from .claims import (
    CLOCK_SKEW,
    ORDER_WAIT_SECONDS,
    QUEUED_GRACE,
    SELLER_ROLES,
    SEND_LEASE,
    AttachmentMissingError,
    ClaimLostError,
    SendOutcome,
    _mine,
    _save_state,
    _timeout,
    backoff_seconds,
    max_attempts,
    reply_claim,
)
from .outcomes import (
    _earlier_reply_pending,
    _fail,
    _failure_reason,
    _retry_or_fail,
    _ticket_back_to_the_buyer,
    replies_to_resume,
    reply_send,
)
from .reconciling import (
    _found,
    _ingested_twin,
    _matches,
    reconcile,
)
from .sending import (
    _deliver,
    _deliver_card,
    _holder_is_a_reply,
    _image_content,
    _mark_sent,
    _send_once,
)

__all__ = [
    "CLOCK_SKEW",
    "ORDER_WAIT_SECONDS",
    "QUEUED_GRACE",
    "SELLER_ROLES",
    "SEND_LEASE",
    "AttachmentMissingError",
    "ClaimLostError",
    "OutcomeUnknownError",
    "SendOutcome",
    "_deliver",
    "_deliver_card",
    "_earlier_reply_pending",
    "_fail",
    "_failure_reason",
    "_found",
    "_holder_is_a_reply",
    "_image_content",
    "_ingested_twin",
    "_mark_sent",
    "_matches",
    "_mine",
    "_retry_or_fail",
    "_save_state",
    "_send_once",
    "_ticket_back_to_the_buyer",
    "_timeout",
    "backoff_seconds",
    "max_attempts",
    "reconcile",
    "replies_to_resume",
    "reply_claim",
    "reply_send",
]
