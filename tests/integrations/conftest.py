# The API tests' two-tenant world (keys, stores, tickets, orders, webhooks of both organisations).
from tests.api.conftest import world  # noqa: F401
