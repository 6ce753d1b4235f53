"""/api/v1/escalations/: escalation cases, with the same rules as the pages.

    GET   /api/v1/escalations/                      ?status= &kind= &store= &ticket=
    POST  /api/v1/escalations/                      JSON, or multipart with files
    GET   /api/v1/escalations/{id}/
    PATCH /api/v1/escalations/{id}/                 a draft's values and files
    POST  /api/v1/escalations/{id}/submit/          e-mails it to the organisation's address
    POST  /api/v1/escalations/{id}/status/          {"status", "note"}
    GET   /api/v1/escalations/{id}/history/
    POST  /api/v1/escalations/{id}/notes/           {"body"}
    GET   /api/v1/escalations/{id}/files/{file_id}/ the file itself
    GET   /api/v1/escalation-kinds/                 each kind's fields (what `values` takes)

Values are checked by `validation.validate`, the form's own check: a missing required field,
an appeal date in the future, a violation escalated before 72 hours, a file that is not an
image or PDF, an order of another organisation are a 400 naming the field (`values.<name>`
for values, `<name>` for files). Files are multipart parts named after their field; in a
multipart request, `values` is a JSON object written as a string. A case, ticket, order or store
of another organisation (or of a store the key does not serve) is a 404.

Layout: `representations.py` (a case as the API gives it, and the serializers documenting it),
`inputs.py` (request bodies and refusals), `viewsets.py` (EscalationViewSet, the history,
notes and files views), `kind_views.py` (/api/v1/escalation-kinds/).
"""

from __future__ import annotations

from .inputs import (
    NOTE_MAX_CHARS,
    CreateInput,
    EscalationNoteInput,
    EscalationStatusInput,
    UpdateInput,
    _refusal,
    _split,
    _unknown_files,
    _valid,
)
from .kind_views import (
    EscalationKinds,
    KindFieldSerializer,
    KindSerializer,
    kind_representation,
)
from .representations import (
    ATTACHMENTS,
    CaseFileSerializer,
    CasePersonSerializer,
    CaseStoreSerializer,
    EscalationSerializer,
    HistorySerializer,
    ValuesField,
    _iso,
    escalation_representation,
    escalations_with_details,
)
from .viewsets import (
    CASE_ID,
    CaseChildView,
    EscalationFile,
    EscalationHistory,
    EscalationNoteCreate,
    EscalationViewSet,
)

__all__ = [
    "ATTACHMENTS",
    "CASE_ID",
    "NOTE_MAX_CHARS",
    "CaseChildView",
    "CaseFileSerializer",
    "CasePersonSerializer",
    "CaseStoreSerializer",
    "CreateInput",
    "EscalationFile",
    "EscalationHistory",
    "EscalationKinds",
    "EscalationNoteCreate",
    "EscalationNoteInput",
    "EscalationSerializer",
    "EscalationStatusInput",
    "EscalationViewSet",
    "HistorySerializer",
    "KindFieldSerializer",
    "KindSerializer",
    "UpdateInput",
    "ValuesField",
    "_iso",
    "_refusal",
    "_split",
    "_unknown_files",
    "_valid",
    "escalation_representation",
    "escalations_with_details",
    "kind_representation",
]
