"""The OpenAPI schema: the committed copy matches what the code generates, and a property-based
run (schemathesis, in-process over WSGI) of every operation finds no 500 and no answer that breaks
the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import KeyClient

# Every operation is generated for (its path ids are real, so it does more than 404); four
# derandomised examples each send valid and invalid bodies, parameters and headers to all of them.
EXAMPLES_PER_OPERATION = 4
# No 500, and every answer (status, content type, headers, body) as the schema says.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
COMMITTED = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"


def test_the_committed_schema_is_current(tmp_path):
    fresh = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(fresh), "--validate", "--fail-on-warn")
    assert fresh.read_text() == COMMITTED.read_text(), (
        "api/openapi.yaml is out of date: run `make schema` and commit it."
    )


@pytest.mark.django_db
def test_schema_is_openapi_3_1_with_bearer_and_idempotency(world):
    body = yaml.safe_load(KeyClient(None).get("/api/v1/schema/").content)
    assert body["openapi"] == "3.1.0"
    assert body["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    posts = [op for item in body["paths"].values() for m, op in item.items() if m == "post"]
    assert posts
    for operation in posts:
        assert "Idempotency-Key" in [p["name"] for p in operation.get("parameters", [])]
        assert "409" in operation["responses"] and "422" in operation["responses"]


def _real_ids(world) -> dict[str, str]:
    return {
        "tickets": str(world.ours.tickets[0].public_id),
        "stores": str(world.ours.stores[0].public_id),
        "orders": str(world.ours.orders[0].public_id),
        "snippets": str(world.ours.snippets[0].public_id),
        "members": str(world.ours.agent.user.public_id),
    }


@pytest.mark.django_db
def test_every_operation_answers_within_its_schema(world, settings):
    """Each operation gets a bounded number of generated requests (valid and invalid bodies,
    parameters and headers) with a write key; path ids are the key's own objects, so that the
    operations do more than answer 404. Every answer must be below 500 and match the schema."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.wsgi import application

    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    # As Django's test client does: the test's transaction must outlive each request (a request
    # ending would otherwise close a connection older than CONN_MAX_AGE, mid-test).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    ids = _real_ids(world)
    headers = {"Authorization": f"Bearer {world.keys['write'].secret}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            collection = case.path.split("/")[3]
            for name in list(case.path_parameters or {}):
                if name == "ticket_id":
                    case.path_parameters[name] = ids["tickets"]
                elif name == "public_id" and collection in ids:
                    case.path_parameters[name] = ids[collection]
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as error:  # collect every operation's failure, then fail once
            failures.append(f"{operation.label}: {error}")
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    assert operations == len(schema_operations())
    assert failures == []


def schema_operations() -> list[tuple[str, str]]:
    document = yaml.safe_load(COMMITTED.read_text())
    return [
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]
