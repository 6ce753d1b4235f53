"""The intent classifier and the language detector: scikit-learn on CPU, trained on the shipped set.

Intents: TF-IDF of words (1-2 grams) and of characters (2-5 grams within words, which carry
typos, missing accents and the three languages' inflections) into a logistic regression, whose
probability of the chosen intent is the confidence. Languages: a naive Bayes on character 1-3
grams of the same messages (their language column), "und" for text with almost no letters.

A model is a plain object pickled to bytes (a file for the shipped model, a row per
organisation for the retrained ones). Corrections made by an organisation's agents also go into
`memory` (the exact message, normalised, with the agent's intent), so a message the team has
already labelled is labelled their way even where the statistics disagree.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sklearn
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline

from .labels import LANGUAGES, Intent
from .text import letters, normalise, without_accents

FORMAT = 1
# Below this many letters a message says too little to tell its language ("ok", "?", emoji).
MIN_LETTERS_FOR_LANGUAGE = 3
# A message whose best intent is less likely than this is "other" (with that low confidence).
MIN_CONFIDENCE = 0.2


def intent_text(text: str) -> str:
    """What the intent features read: normalised, accents dropped (buyers often leave them out)."""
    return without_accents(normalise(text))


def language_text(text: str) -> str:
    return normalise(text)


@dataclass(frozen=True, slots=True)
class Prediction:
    intent: str
    confidence: float
    language: str


@dataclass
class Example:
    text: str
    intent: str
    weight: float = 1.0


@dataclass
class TriageModel:
    intents: Pipeline
    languages: Pipeline | None
    memory: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        """One prediction per text, in one vectorised pass."""
        if not texts:
            return []
        cleaned = [intent_text(text) for text in texts]
        probabilities = self.intents.predict_proba(cleaned)
        classes = self.intents.classes_
        best = probabilities.argmax(axis=1)
        languages = self.detect_languages(texts)
        predictions = []
        for i, text in enumerate(cleaned):
            confidence = float(probabilities[i, best[i]])
            intent = str(classes[best[i]])
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
        if self.languages is None:
            return result
        wanted = [i for i, text in enumerate(texts) if letters(text) >= MIN_LETTERS_FOR_LANGUAGE]
        if wanted:
            found = self.languages.predict([language_text(texts[i]) for i in wanted])
            for i, language in zip(wanted, found, strict=True):
                result[i] = str(language)
        return result

    def to_bytes(self) -> bytes:
        return pickle.dumps({"format": FORMAT, "sklearn": sklearn.__version__, "model": self})

    @classmethod
    def from_bytes(cls, data: bytes) -> TriageModel:
        """Raises ValueError for anything that is not a model this code wrote."""
        try:
            # Our own artefacts only (a file we wrote, a row we stored), never user input.
            loaded = pickle.loads(data)  # noqa: S301
        except Exception as error:
            raise ValueError(f"not a triage model ({type(error).__name__}: {error})") from error
        if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
            raise ValueError("not a triage model of this format")
        if loaded.get("sklearn") != sklearn.__version__:
            raise ValueError(
                f"trained with scikit-learn {loaded.get('sklearn')}, this is {sklearn.__version__}"
            )
        model = loaded.get("model")
        if not isinstance(model, cls):
            raise ValueError("not a triage model")
        return model


def _intent_pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    token_pattern=r"(?u)\b\w+\b",  # noqa: S106  (a regex, not a secret)
                    sublinear_tf=True,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                ),
            ),
        ]
    )
    # Logistic loss (probabilities for the confidence) fitted by SGD: as accurate on the held-out
    # set as LogisticRegression's lbfgs here, and five times faster to train (retraining an
    # organisation with 10,000 corrections stays within seconds). Fixed seed: reproducible.
    classifier = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=50, tol=None, random_state=18)
    return Pipeline([("features", features), ("classifier", classifier)])


def _language_pipeline() -> Pipeline:
    return Pipeline(
        [
            ("features", CountVectorizer(analyzer="char_wb", ngram_range=(1, 3))),
            ("classifier", MultinomialNB(alpha=0.1)),
        ]
    )


def train(
    examples: Sequence[Example],
    *,
    language_examples: Sequence[tuple[str, str]] = (),
    memory: dict[str, str] | None = None,
    meta: dict[str, Any] | None = None,
) -> TriageModel:
    """A model trained on `examples`; `language_examples` are (text, language) pairs."""
    intents = _intent_pipeline()
    intents.fit(
        [intent_text(example.text) for example in examples],
        [example.intent for example in examples],
        classifier__sample_weight=[example.weight for example in examples],
    )
    languages = None
    pairs = [(text, language) for text, language in language_examples if language in LANGUAGES]
    if pairs:
        languages = _language_pipeline()
        languages.fit([language_text(text) for text, _ in pairs], [lang for _, lang in pairs])
    return TriageModel(
        intents=intents,
        languages=languages,
        memory={intent_text(text): intent for text, intent in (memory or {}).items()},
        meta=dict(meta or {}),
    )


@dataclass(frozen=True)
class Score:
    accuracy: float
    macro_f1: float
    examples: int
    per_language: dict[str, dict[str, float]]
    language_accuracy: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "examples": self.examples,
            "per_language": self.per_language,
            "language_accuracy": self.language_accuracy,
        }


def evaluate(model: TriageModel, examples: Sequence[Any]) -> Score:
    """Accuracy and macro-F1 of `model` on labelled examples (text, intent, language)."""
    predictions = model.classify([example.text for example in examples])
    truth = [example.intent for example in examples]
    found = [prediction.intent for prediction in predictions]
    per_language: dict[str, dict[str, float]] = {}
    for language in sorted({example.language for example in examples}):
        rows = [i for i, example in enumerate(examples) if example.language == language]
        per_language[language] = {
            "examples": len(rows),
            "accuracy": round(
                accuracy_score([truth[i] for i in rows], [found[i] for i in rows]), 4
            ),
            "macro_f1": round(
                f1_score(
                    [truth[i] for i in rows],
                    [found[i] for i in rows],
                    average="macro",
                    zero_division=0,
                ),
                4,
            ),
        }
    language_right = sum(
        1
        for example, prediction in zip(examples, predictions, strict=True)
        if prediction.language in (example.language, "und")
    )
    return Score(
        accuracy=round(accuracy_score(truth, found), 4),
        macro_f1=round(f1_score(truth, found, average="macro", zero_division=0), 4),
        examples=len(examples),
        per_language=per_language,
        language_accuracy=round(language_right / len(examples), 4) if examples else 0.0,
    )
