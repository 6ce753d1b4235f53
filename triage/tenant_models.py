"""Organisations' models: retrained from the shipped set plus the organisation's corrections,
kept with a version, and used only when they score at least as well as the model they replace.

Loaded per worker process and kept in a small LRU (TRIAGE_TENANT_MODELS_CACHED) keyed by
(organisation, version): a new version is picked up by the next batch, since the active version
is read (one indexed query) for every batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from . import dataset
from .compact import CompactModel
from .engine import shipped_model
from .models import IntentCorrection, ModelStatus, TenantModel
from .selectors import active_model_versions

logger = logging.getLogger(__name__)

# A correction counts as this many shipped examples: the team's own words weigh more.
CORRECTION_WEIGHT = 3.0

_lock = threading.Lock()
_cache: OrderedDict[tuple[int, int], CompactModel] = OrderedDict()


def models_for(tenant_ids: list[int]) -> dict[int, CompactModel | None]:
    """The model each organisation's messages are labelled with: its active retrained model,
    else the shipped one (None: no usable model, rules only)."""
    versions = active_model_versions(tenant_ids=tenant_ids)
    found: dict[int, CompactModel | None] = {}
    for tenant_id in tenant_ids:
        version = versions.get(tenant_id)
        model = _load(tenant_id, version) if version is not None else None
        found[tenant_id] = model if model is not None else shipped_model()
    return found


def _load(tenant_id: int, version: int) -> CompactModel | None:
    key = (tenant_id, version)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    row = (
        TenantModel.objects.filter(tenant_id=tenant_id, version=version)
        .values_list("artefact", flat=True)
        .first()
    )
    try:
        model = CompactModel.from_bytes(bytes(row)) if row else None
    except ValueError as error:
        logger.error(
            "Triage model v%s of organisation %s cannot be used (%s): the shipped model is used.",
            version,
            tenant_id,
            error,
        )
        model = None
    if model is not None:
        with _lock:
            _cache[key] = model
            while len(_cache) > max(1, settings.TRIAGE_TENANT_MODELS_CACHED):
                _cache.popitem(last=False)
    return model


def cache_clear() -> None:
    with _lock:
        _cache.clear()


def tenant_model_retrain(*, tenant_id: int) -> TenantModel | None:
    """Trains the organisation's model from the shipped training split and its corrections;
    activates it when it scores at least as well on the held-out split as the active one (or
    the shipped model), keeping the one it replaces. None when there is nothing to learn."""
    from .classifier import Example, evaluate, train  # scikit-learn: only to train

    corrections = list(
        IntentCorrection.objects.filter(tenant_id=tenant_id)
        .exclude(text="")
        .order_by("created_at", "pk")
        .values_list("text", "intent")
    )
    if not corrections:
        return None
    started = time.perf_counter()
    shipped_rows = dataset.training()
    memory = dict(corrections)  # the latest correction of a text wins
    model = train(
        [Example(row.text, row.intent) for row in shipped_rows]
        + [Example(text, intent, CORRECTION_WEIGHT) for text, intent in corrections],
        language_examples=[(row.text, row.language) for row in shipped_rows],
        memory=memory,
    )
    seconds = round(time.perf_counter() - started, 2)
    score = evaluate(model, dataset.held_out())
    with transaction.atomic():
        active = (
            TenantModel.objects.select_for_update()
            .filter(tenant_id=tenant_id, status=ModelStatus.ACTIVE)
            .defer("artefact")
            .first()
        )
        baseline = active.accuracy if active is not None else _shipped_accuracy()
        version = (
            TenantModel.objects.filter(tenant_id=tenant_id).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        model.meta.update({"version": f"org-{tenant_id}-v{version}"})
        accepted = score.accuracy >= baseline
        row = TenantModel.objects.create(
            tenant_id=tenant_id,
            version=version,
            status=ModelStatus.ACTIVE if accepted else ModelStatus.REJECTED,
            artefact=model.to_bytes() if accepted else b"",
            examples=len(shipped_rows) + len(corrections),
            corrections=len(corrections),
            accuracy=score.accuracy,
            macro_f1=score.macro_f1,
            train_seconds=seconds,
        )
        if accepted and active is not None:
            # The one before the previous goes; the previous stays, to go back to.
            TenantModel.objects.filter(tenant_id=tenant_id, status=ModelStatus.PREVIOUS).delete()
            TenantModel.objects.filter(pk=active.pk).update(status=ModelStatus.PREVIOUS)
    logger.info(
        "Triage model v%s of organisation %s: %d corrections, accuracy %.3f (baseline %.3f), %s.",
        version,
        tenant_id,
        len(corrections),
        score.accuracy,
        baseline,
        "activated" if accepted else "rejected",
    )
    return row


def _shipped_accuracy() -> float:
    model = shipped_model()
    if model is None:
        return 0.0
    held = model.meta.get("held_out") or {}
    if "accuracy" in held:
        return float(held["accuracy"])
    from .classifier import evaluate

    return evaluate(model, dataset.held_out()).accuracy
