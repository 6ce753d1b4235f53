"""The model as labelling uses it: the fitted classifier's numbers (vocabularies, IDF weights,
coefficients) in plain Python and NumPy, scored message by message.

Labelling needs NumPy only: scikit-learn (and SciPy, which it loads) adds some 100 MB to a
process and ~10-50 ms of input checks and dispatch to every one-message call, and its pickles do
not cross its releases. It is imported only to train (`triage.classifier`), which turns the
fitted pipelines into a `CompactModel`; tests check both give the same probabilities.
"""

from __future__ import annotations

import math
import pickle
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .labels import Intent
from .text import letters, normalise, without_accents

FORMAT = 2
# Below this many letters a message says too little to tell its language ("ok", "?", emoji).
MIN_LETTERS_FOR_LANGUAGE = 3
# A message whose best intent is less likely than this is "other" (with that low confidence).
MIN_CONFIDENCE = 0.2
WORD_PATTERN = r"(?u)\b\w+\b"
_WORD = re.compile(WORD_PATTERN)
_SPACES = re.compile(r"\s\s+")


def intent_text(text: str) -> str:
    """What the intent features read: normalised, accents dropped (buyers often leave them out)."""
    return without_accents(normalise(text))


def language_text(text: str) -> str:
    return normalise(text)


def char_wb_ngrams(text: str, low: int, high: int) -> Iterator[str]:
    """scikit-learn's "char_wb" analyzer (lower-cased input): n-grams inside padded words."""
    for word in _SPACES.sub(" ", text).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            offset = 0
            yield padded[offset : offset + n]
            while offset + n < size:
                offset += 1
                yield padded[offset : offset + n]
            if offset == 0:  # the word is shorter than n
                break


def word_ngrams(text: str, low: int, high: int) -> Iterator[str]:
    """scikit-learn's "word" analyzer with WORD_PATTERN (lower-cased input)."""
    tokens = _WORD.findall(text)
    if low == 1:
        yield from tokens
        low = 2
    for n in range(low, min(high, len(tokens)) + 1):
        for i in range(len(tokens) - n + 1):
            yield " ".join(tokens[i : i + n])


ANALYZERS = {"char_wb": char_wb_ngrams, "word": word_ngrams}


@dataclass(frozen=True, slots=True)
class Prediction:
    intent: str
    confidence: float
    language: str


@dataclass
class Features:
    """One TF-IDF vectorizer's part of the feature vector (sublinear tf, l2-normalised)."""

    analyzer: str
    low: int
    high: int
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int


@dataclass
class CompactModel:
    classes: list[str]
    coef: np.ndarray  # features x classes
    intercept: np.ndarray
    features: list[Features]
    # Language detector (multinomial naive Bayes on character n-grams); None: all "und".
    language_analyzer: tuple[str, int, int] | None = None
    language_vocabulary: dict[str, int] = field(default_factory=dict)
    language_log_prob: np.ndarray | None = None  # features x languages
    language_prior: np.ndarray | None = None
    language_classes: list[str] = field(default_factory=list)
    # Texts an organisation's agents labelled (normalised): their intent, confidence 1.
    memory: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def intent_probabilities(self, cleaned: Sequence[str]) -> np.ndarray:
        scores = np.empty((len(cleaned), len(self.classes)))
        for row, text in enumerate(cleaned):
            columns: list[int] = []
            weights: list[float] = []
            for part in self.features:
                vocabulary = part.vocabulary
                counts = Counter(
                    vocabulary[term]
                    for term in ANALYZERS[part.analyzer](text, part.low, part.high)
                    if term in vocabulary
                )
                if not counts:
                    continue
                values = [(1.0 + math.log(n)) * part.idf[i] for i, n in counts.items()]
                norm = math.sqrt(sum(v * v for v in values))
                columns.extend(part.offset + i for i in counts)
                weights.extend(v / norm for v in values)
            decision = self.intercept.copy()
            if columns:
                decision += np.asarray(weights) @ self.coef[columns]
            scores[row] = decision
        # A one-vs-rest logistic model: a sigmoid per class, normalised.
        probabilities = 1.0 / (1.0 + np.exp(-scores))
        sums = probabilities.sum(axis=1, keepdims=True)
        sums[sums == 0] = 1.0
        return probabilities / sums

    def languages(self, texts: Sequence[str]) -> list[str]:
        if self.language_analyzer is None or self.language_log_prob is None:
            return ["und"] * len(texts)
        kind, low, high = self.language_analyzer
        vocabulary = self.language_vocabulary
        found = []
        for text in texts:
            counts = Counter(
                vocabulary[t] for t in ANALYZERS[kind](text, low, high) if t in vocabulary
            )
            joint = np.array(self.language_prior, dtype=float)
            if counts:
                joint += (
                    np.asarray(list(counts.values()), dtype=float)
                    @ self.language_log_prob[list(counts)]
                )
            found.append(self.language_classes[int(joint.argmax())])
        return found

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        """One prediction per text; never raises for any text."""
        if not texts:
            return []
        cleaned = [intent_text(text) for text in texts]
        probabilities = self.intent_probabilities(cleaned)
        best = probabilities.argmax(axis=1)
        languages = self.detect_languages(texts)
        predictions = []
        for i, text in enumerate(cleaned):
            confidence = float(probabilities[i, best[i]])
            intent = self.classes[int(best[i])]
            remembered = self.memory.get(text)
            if remembered is not None:
                intent, confidence = remembered, 1.0
            elif not text or letters(text) == 0:
                intent, confidence = Intent.OTHER.value, 0.0
            elif confidence < MIN_CONFIDENCE:
                intent = Intent.OTHER.value
            predictions.append(Prediction(intent, round(confidence, 3), languages[i]))
        return predictions

    def detect_languages(self, texts: Sequence[str]) -> list[str]:
        result = ["und"] * len(texts)
        wanted = [i for i, text in enumerate(texts) if letters(text) >= MIN_LETTERS_FOR_LANGUAGE]
        if wanted:
            found = self.languages([language_text(texts[i]) for i in wanted])
            for i, language in zip(wanted, found, strict=True):
                result[i] = language
        return result

    def to_bytes(self) -> bytes:
        return pickle.dumps({"format": FORMAT, "model": self}, protocol=5)

    @classmethod
    def from_bytes(cls, data: bytes) -> CompactModel:
        """Raises ValueError for anything that is not a model this code wrote."""
        try:
            # Our own artefacts only (a file we wrote, a row we stored), never user input.
            loaded = pickle.loads(data)  # noqa: S301
        except Exception as error:
            raise ValueError(f"not a triage model ({type(error).__name__}: {error})") from error
        if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
            raise ValueError("not a triage model of this format")
        model = loaded.get("model")
        if not isinstance(model, cls):
            raise ValueError("not a triage model")
        return model
