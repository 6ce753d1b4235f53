"""Text as the classifier sees it: lower case, order numbers and links as tokens, long runs cut."""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 1000  # a 2,000-character message is judged on its first thousand characters
_ORDER_NUMBER = re.compile(r"(?<!\d)\d{6,}(?!\d)")
_URL = re.compile(r"https?://\S+|www\.\S+")
_REPEATS = re.compile(r"(.)\1{2,}")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "")[:MAX_CHARS].lower()
    text = _URL.sub(" url ", text)
    text = _ORDER_NUMBER.sub(" ordernum ", text)
    text = _REPEATS.sub(r"\1\1", text)  # "sooooo" and "!!!!!" as "soo" and "!!"
    return _SPACES.sub(" ", text).strip()


def letters(text: str) -> int:
    return sum(1 for char in text if char.isalpha())


def without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
