"""Unique numeric string ids drawn from the seeded generator."""

from __future__ import annotations

import random


class Ids:
    """Unique numeric string ids of a given shape, drawn from the seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def make(self, prefix: str, length: int) -> str:
        while True:
            value = prefix + str(
                self.rng.randrange(10 ** (length - len(prefix) - 1), 10 ** (length - len(prefix)))
            )
            if value not in self.seen:
                self.seen.add(value)
                return value


def stable_id(text: str) -> str:
    return str(abs(hash_text(text)) % 10**7 + 10**7)


def hash_text(text: str) -> int:
    value = 0
    for char in text:
        value = (value * 131 + ord(char)) % (2**61 - 1)
    return value
