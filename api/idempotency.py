"""`Idempotency-Key` on POST: a write retried with the same key is done once.

Scoped to the key's organisation and kept 24 hours (IdempotencyRecord, unique (tenant, key)):
- first request: the key is claimed (state running), the view runs, its answer is stored (any
  answer below 500; a 5xx or a crash releases the claim so that a retry runs again);
- the same key and the same request (method, path, body) again: the stored answer is replayed,
  with `Idempotent-Replayed: true`;
- the same key with another request: 422 `idempotency_key_reused`;
- the same key while the first request still runs: 409 `idempotency_in_progress`. A claim older
  than RUNNING_TIMEOUT (a killed worker) is taken over.
The claim is committed on its own before the view runs, so concurrent retries see it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from .errors import Conflict, Unprocessable
from .models import IdempotencyRecord, IdempotencyState

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
RUNNING_TIMEOUT = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


class InProgress(Conflict):
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."
    default_code = "idempotency_in_progress"


class KeyReused(Unprocessable):
    default_detail = "This Idempotency-Key was used for a different request."
    default_code = "idempotency_key_reused"


@dataclass
class Claim:
    record_id: int


def _canonical(value: object) -> object:
    """The parsed body in a stable form: files by the hash of their content."""
    if hasattr(value, "read") and hasattr(value, "seek"):
        digest = hashlib.sha256()
        value.seek(0)  # type: ignore[attr-defined]
        for chunk in iter(lambda: value.read(65536), b""):  # type: ignore[attr-defined]
            digest.update(chunk)
        value.seek(0)  # type: ignore[attr-defined]
        return {"file_sha256": digest.hexdigest()}
    if hasattr(value, "lists"):  # a QueryDict (multipart form)
        return {k: [_canonical(v) for v in vs] for k, vs in sorted(value.lists())}  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def fingerprint(request: Request) -> str:
    """Method, path and the parsed body (so that key order and spacing do not matter)."""
    files = getattr(request, "FILES", None) or {}
    document = {
        "method": request.method,
        "path": request.path,
        "data": _canonical(request.data),
        "files": _canonical(dict(files.items())) if files else {},
    }
    encoded = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [f"Give 1-{MAX_KEY_LENGTH} printable characters (a UUID is a good key)."]}
        )
    return key


def claim(*, tenant_id: int, key: str, request: Request) -> Claim | HttpResponse:
    """Claims `key` for this request, or answers for it (replay, 409, 422)."""
    print_ = fingerprint(request)
    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    tenant_id=tenant_id, key=key, fingerprint=print_, created_at=now
                )
            return Claim(record.pk)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(tenant_id=tenant_id, key=key).first()
        if existing is None:
            continue  # expired and deleted meanwhile: claim again
        if existing.created_at < now - KEEP:
            IdempotencyRecord.objects.filter(
                pk=existing.pk, created_at=existing.created_at
            ).delete()
            continue
        if existing.fingerprint != print_:
            raise KeyReused()
        if existing.state == IdempotencyState.DONE:
            response = HttpResponse(
                existing.response_body,
                status=existing.response_status,
                content_type="application/json",
            )
            response["Idempotent-Replayed"] = "true"
            return response
        if existing.created_at < now - RUNNING_TIMEOUT:
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, state=IdempotencyState.RUNNING, created_at=existing.created_at
            ).update(created_at=now)
            if taken:
                return Claim(existing.pk)
        raise InProgress()
    raise InProgress()


def finish(claim_: Claim, response: Response | HttpResponse) -> None:
    """Stores the answer to replay; a server error releases the key instead."""
    if response.status_code >= 500:
        release(claim_)
        return
    data = getattr(response, "data", None)
    body = JSONRenderer().render(data).decode() if data is not None else ""
    IdempotencyRecord.objects.filter(pk=claim_.record_id).update(
        state=IdempotencyState.DONE,
        response_status=response.status_code,
        response_body=body,
        finished_at=timezone.now(),
    )


def release(claim_: Claim) -> None:
    IdempotencyRecord.objects.filter(pk=claim_.record_id, state=IdempotencyState.RUNNING).delete()


def records_expire(*, now=None) -> int:
    """Deletes what is older than 24 hours (beat task)."""
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - KEEP).delete()
    return deleted
