"""The labelled set shipped in triage/data/messages.jsonl (see triage/data/README.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "messages.jsonl"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    language: str
    split: str  # "train" or "test" (held out: never trained on)
    origin: str  # "hand" or "variant"


@cache
def examples() -> tuple[Example, ...]:
    rows = []
    with DATA_FILE.open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                row = json.loads(line)
                rows.append(Example(**row))
    return tuple(rows)


def training() -> list[Example]:
    return [example for example in examples() if example.split == "train"]


def held_out() -> list[Example]:
    return [example for example in examples() if example.split == "test"]


@cache
def fingerprint() -> str:
    """Changes with the shipped set: a model trained on another set is retrained."""
    return hashlib.sha256(DATA_FILE.read_bytes()).hexdigest()[:16]
