"""Labels for buyer messages: rules first, then the classifier, plus urgency.

The shipped model is trained from the shipped set (triage/data/messages.jsonl) by
`manage.py triage_train` into `settings.TRIAGE_MODEL_PATH`; with `TRIAGE_TRAIN_MISSING_MODEL`
(the default) the first use trains it when the file is missing, or was written by another
scikit-learn release (pickles do not cross releases), so a fresh clone works offline without a
step. It trains in a child process, so a worker never holds scikit-learn. A file that cannot be
read is never fatal: labelling goes on by rules alone (every message then `other` unless a rule
applies) with one clear log line, and the model is retried a minute later.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from . import dataset
from .child import last_error_line, manage_in_child
from .compact import CompactModel
from .labels import Intent, LabelSource
from .rules import rule_label
from .urgency import urgency_reasons

logger = logging.getLogger(__name__)

RETRY_SECONDS = 60.0
TRAIN_TIMEOUT_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Label:
    intent: str
    confidence: float
    language: str
    urgent: bool
    reasons: tuple[str, ...]
    source: str  # LabelSource
    rule: str = ""
    sets_topic: bool = True

    def as_dict(self) -> dict[str, object]:
        return {
            "intent": self.intent,
            "confidence": self.confidence,
            "language": self.language,
            "urgent": self.urgent,
        }


@dataclass(frozen=True, slots=True)
class MessageInput:
    text: str
    type: str = "TEXT"
    ticket_intent: str = ""


def model_path() -> Path:
    return Path(settings.TRIAGE_MODEL_PATH)


def shipped_model_train() -> CompactModel:
    """The shipped model: trained on the shipped set's training split, scored on its held-out."""
    from .classifier import Example, evaluate, train  # scikit-learn: only to train

    started = time.perf_counter()
    training = dataset.training()
    model = train(
        [Example(example.text, example.intent) for example in training],
        language_examples=[(example.text, example.language) for example in training],
        meta={"version": f"shipped-{dataset.fingerprint()}", "examples": len(training)},
    )
    model.meta["train_seconds"] = round(time.perf_counter() - started, 2)
    model.meta["held_out"] = evaluate(model, dataset.held_out()).as_dict()
    return model


def model_save(model: CompactModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(model.to_bytes())
    partial.replace(path)  # readers see the old file or the new one, never half of one


class _Shipped:
    """The shipped model of this process, loaded once (reloaded when its file changes)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.model: CompactModel | None = None
        self.stamp: tuple[str, float] | None = None
        self.failed_at = 0.0

    def get(self) -> CompactModel | None:
        path = model_path()
        try:
            stamp = (str(path), path.stat().st_mtime)
        except OSError:
            stamp = None
        if stamp is not None and stamp == self.stamp:
            return self.model
        if time.monotonic() - self.failed_at < RETRY_SECONDS:
            return None
        with self.lock:
            self.model = self._load(path)
            self.stamp = stamp if self.model is not None else None
            if self.model is None:
                self.failed_at = time.monotonic()
            else:
                self.stamp = (str(path), path.stat().st_mtime)
            return self.model

    def _load(self, path: Path) -> CompactModel | None:
        if not path.exists():
            if settings.TRIAGE_TRAIN_MISSING_MODEL:
                return _train_once(path, reason="no model file yet")
            logger.error(
                "Triage classifier file %s is missing: labelling by rules only "
                "(run `manage.py triage_train`).",
                path,
            )
            return None
        try:
            return CompactModel.from_bytes(path.read_bytes())
        except (OSError, ValueError) as error:
            if "of this format" in str(error) and settings.TRIAGE_TRAIN_MISSING_MODEL:
                return _train_once(path, reason="written by an older Sellerdesk")
            logger.error(
                "Triage classifier file %s cannot be used (%s): labelling by rules only "
                "(run `manage.py triage_train`).",
                path,
                error,
            )
            return None

    def forget(self) -> None:
        with self.lock:
            self.model, self.stamp, self.failed_at = None, None, 0.0


_shipped = _Shipped()


def _train_once(path: Path, *, reason: str) -> CompactModel | None:
    """Trains the shipped model into `path`, one process at a time (the others wait, then read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.exists():
                try:
                    return CompactModel.from_bytes(path.read_bytes())
                except ValueError:
                    pass
            logger.info("Training the triage classifier into %s (%s).", path, reason)
            if _train_in_child(path):
                return CompactModel.from_bytes(path.read_bytes())
            model = shipped_model_train()
            model_save(model, path)
            return model
        except Exception:
            logger.exception("Triage classifier could not be trained: labelling by rules only.")
            return None
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _train_in_child(path: Path) -> bool:
    """`manage.py triage_train` in a child process (triage.child). False when the child could
    not do it: the caller then trains here, so labelling still gets a model."""
    finished = manage_in_child(
        "triage_train", "--output", str(path), database=False, timeout=TRAIN_TIMEOUT_SECONDS
    )
    if finished is None or finished.returncode != 0 or not path.exists():
        logger.warning(
            "Triage training in a child process failed (%s): training here.",
            "no child" if finished is None else last_error_line(finished),
        )
        return False
    return True


def shipped_model() -> CompactModel | None:
    return _shipped.get()


def shipped_model_forget() -> None:
    """Reloads the file at the next use (tests, and after `triage_train`)."""
    _shipped.forget()


def label_messages(items: Sequence[MessageInput], *, model: CompactModel | None) -> list[Label]:
    """One label per buyer message: a rule where one is certain, else the classifier (all the
    messages left in one vectorised call). Never raises for any text."""
    labels: list[Label | None] = [None] * len(items)
    for_model: list[int] = []
    for i, item in enumerate(items):
        reasons = tuple(urgency_reasons(item.text))
        rule = rule_label(message_type=item.type, text=item.text, ticket_intent=item.ticket_intent)
        if rule is not None:
            labels[i] = Label(
                intent=rule.intent,
                confidence=1.0 if rule.intent != Intent.OTHER else 0.0,
                language="und",
                urgent=bool(reasons),
                reasons=reasons,
                source=LabelSource.RULE,
                rule=rule.rule,
                sets_topic=rule.sets_topic,
            )
        else:
            for_model.append(i)
    if for_model:
        texts = [items[i].text for i in for_model]
        predictions = _classify(model, texts)
        for i, prediction in zip(for_model, predictions, strict=True):
            reasons = tuple(urgency_reasons(items[i].text))
            labels[i] = Label(
                intent=prediction[0],
                confidence=prediction[1],
                language=prediction[2],
                urgent=bool(reasons),
                reasons=reasons,
                source=LabelSource.MODEL if model is not None else LabelSource.RULE,
                rule="" if model is not None else "no classifier",
                sets_topic=prediction[0] not in (Intent.OTHER, Intent.THANKS_CLOSING),
            )
    return [label for label in labels if label is not None]


def _classify(model: CompactModel | None, texts: list[str]) -> list[tuple[str, float, str]]:
    if model is None:
        return [(Intent.OTHER.value, 0.0, "und")] * len(texts)
    try:
        return [(p.intent, p.confidence, p.language) for p in model.classify(texts)]
    except Exception:
        # A model that loads but fails on some input must not stop labelling (nor ingest).
        logger.exception(
            "Triage classifier failed on %d messages: labelled by rules only.", len(texts)
        )
        return [(Intent.OTHER.value, 0.0, "und")] * len(texts)


def label_texts(texts: Sequence[str], *, model: CompactModel | None = None) -> list[Label]:
    """Labels for plain texts (the `triage_messages` command, previews): the shipped model."""
    model = model if model is not None else shipped_model()
    return label_messages([MessageInput(text=text or "") for text in texts], model=model)
