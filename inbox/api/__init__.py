"""/api/v1/tickets/, their messages and notes, and /api/v1/snippets/.

Every view resolves the ticket with `selectors.conversation_get` (404 for another organisation's
ticket or a store the key does not serve) and calls the mailbox's own services: the composer's
rules (2,000 characters, image checks), the outbox, the history rows ("via API key <name>").

Layout: `serializers.py` (the documented representations), `representations.py` (the fast
ones lists use, equal to them), `inputs.py` (request bodies, query flags, schema parameters),
`viewsets.py` (TicketViewSet, MessageViewSet, NoteViewSet).
"""

from __future__ import annotations

from .inputs import (
    TICKET_ID,
    UPDATED_SINCE,
    AssignInput,
    NoteInput,
    ReplyInput,
    StatusInput,
    _flag,
    _when,
)
from .representations import (
    TICKET_COLUMNS,
    _person,
    iso,
    message_representation,
    ticket_representation,
    ticket_values,
)
from .serializers import (
    BREACH_NAMES,
    TICKET_PLAIN_FIELDS,
    BuyerSerializer,
    MessageSerializer,
    NoteSerializer,
    PersonSerializer,
    TicketSerializer,
    TicketStoreSerializer,
    _intent_help,
    _intent_words,
)
from .viewsets import (
    MessageViewSet,
    NoteViewSet,
    TicketChildMixin,
    TicketViewSet,
    _valid,
)

__all__ = [
    "BREACH_NAMES",
    "TICKET_COLUMNS",
    "TICKET_ID",
    "TICKET_PLAIN_FIELDS",
    "UPDATED_SINCE",
    "AssignInput",
    "BuyerSerializer",
    "MessageSerializer",
    "MessageViewSet",
    "NoteInput",
    "NoteSerializer",
    "NoteViewSet",
    "PersonSerializer",
    "ReplyInput",
    "StatusInput",
    "TicketChildMixin",
    "TicketSerializer",
    "TicketStoreSerializer",
    "TicketViewSet",
    "_flag",
    "_intent_help",
    "_intent_words",
    "_person",
    "_valid",
    "_when",
    "iso",
    "message_representation",
    "ticket_representation",
    "ticket_values",
]
