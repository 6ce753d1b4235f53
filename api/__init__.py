"""The REST API (/api/v1/): shared machinery, and the conventions every endpoint follows.

How a request goes: `authentication.BearerKeyAuthentication` finds the organisation's key
(`Authorization: Bearer <key>`, hashed at rest, refused at once when revoked) and makes it a
`tenants.principals.KeyMember`; `permissions.KeyScope` lets a `read` key only read (403
`insufficient_scope`); `throttling.KeyRateThrottle` counts per key (429 + Retry-After);
`views.KeyViewMixin` claims an `Idempotency-Key` on POST (`idempotency`); errors of every kind
come out as {"error": {"code", "message", "fields"}} (`errors`); lists page by keyset cursor
(`pagination`); `schema` adds the Bearer scheme, Idempotency-Key and error responses to every
operation of the OpenAPI 3.1 document, committed as api/openapi.yaml.

Adding an endpoint (in your app's api.py):
- Subclass `api.views.APIViewSet` (or `APIView`); mix in DRF's mixins for list/retrieve.
- Resolve objects with your app's selectors, passing `tenant=self.tenant` and
  `membership=self.member`: another organisation's object, or one of a store the key does not
  serve, must be a 404 (raise Http404; never 403). Write through your app's services with
  `membership=self.member`; a key has no user (`tenants.principals.actor_trace` marks history
  rows "via API key <name>").
- Lists: set `ordering` (or `get_ordering()`), e.g. ("-created_at", "id") is NOT allowed (one
  direction), ("created_at", "id") is; with `updated_since`, order by ("updated_at", "id").
- Request bodies: a serializer with `api.views.StrictSerializerMixin` (unknown fields are 400);
  turn your service's errors into `exceptions.ValidationError({field: [message]})` (400),
  `api.errors.Conflict` (409) or `api.errors.Unprocessable` (422).
- Register the viewset in api/urls.py, run `make schema` and commit api/openapi.yaml (a test
  compares it), and add your endpoint to the isolation loop in tests/api/test_isolation.py.

Emitting an event for outbound webhooks: call `integrations.events.emit(...)` inside the same
transaction as the change (see integrations/events.py).
"""
