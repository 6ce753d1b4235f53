"""Training (scikit-learn): the intent classifier and the language detector, turned into a
`CompactModel` (triage.compact) for labelling.

Intents: TF-IDF of words (1-2 grams) and of characters (2-5 grams within words, which carry
typos, missing accents and the three languages' inflections) into a logistic model, whose
probability of the chosen intent is the confidence. Languages: a naive Bayes on character 1-3
grams of the same messages (their language column), "und" for text with almost no letters.

Corrections made by an organisation's agents also go into the model's `memory` (the exact
message, normalised, with the agent's intent), so a message the team has already labelled is
labelled their way even where the statistics disagree.

Only training imports this module (the `triage_train` command, a first use without a model
file, the nightly retraining): labelling needs NumPy alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline

from .compact import WORD_PATTERN, CompactModel, Features, intent_text, language_text
from .labels import LANGUAGES

WORDS = (1, 2)
CHARS = (2, 5)
LANGUAGE_CHARS = (1, 3)


@dataclass
class Example:
    text: str
    intent: str
    weight: float = 1.0


def _intent_pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=WORDS,
                    token_pattern=WORD_PATTERN,
                    sublinear_tf=True,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(analyzer="char_wb", ngram_range=CHARS, sublinear_tf=True, min_df=2),
            ),
        ]
    )
    # Logistic loss (probabilities for the confidence) fitted by SGD: as accurate on the held-out
    # set as LogisticRegression's lbfgs here, and several times faster to train (retraining an
    # organisation with 10,000 corrections). Fixed seed: reproducible.
    classifier = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=20, tol=None, random_state=18)
    return Pipeline([("features", features), ("classifier", classifier)])


def _language_pipeline() -> Pipeline:
    return Pipeline(
        [
            ("features", CountVectorizer(analyzer="char_wb", ngram_range=LANGUAGE_CHARS)),
            ("classifier", MultinomialNB(alpha=0.1)),
        ]
    )


def fit(
    examples: Sequence[Example], language_examples: Sequence[tuple[str, str]] = ()
) -> tuple[Pipeline, Pipeline | None]:
    """The fitted scikit-learn pipelines (intents, languages)."""
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
    return intents, languages


def compact(
    intents: Pipeline,
    languages: Pipeline | None,
    *,
    memory: dict[str, str] | None = None,
    meta: dict[str, Any] | None = None,
) -> CompactModel:
    union = intents.named_steps["features"]
    classifier = intents.named_steps["classifier"]
    parts = []
    offset = 0
    for _, vectorizer in union.transformer_list:
        low, high = vectorizer.ngram_range
        vocabulary = {str(term): int(i) for term, i in vectorizer.vocabulary_.items()}
        parts.append(
            Features(vectorizer.analyzer, low, high, vocabulary, vectorizer.idf_.copy(), offset)
        )
        offset += len(vocabulary)
    model = CompactModel(
        classes=[str(name) for name in classifier.classes_],
        coef=classifier.coef_.T.copy(order="C"),
        intercept=classifier.intercept_.copy(),
        features=parts,
        memory={intent_text(text): intent for text, intent in (memory or {}).items()},
        meta=dict(meta or {}),
    )
    if languages is not None:
        counts = languages.named_steps["features"]
        bayes = languages.named_steps["classifier"]
        model.language_analyzer = (counts.analyzer, *counts.ngram_range)
        model.language_vocabulary = {str(t): int(i) for t, i in counts.vocabulary_.items()}
        model.language_log_prob = bayes.feature_log_prob_.T.copy(order="C")
        model.language_prior = bayes.class_log_prior_.copy()
        model.language_classes = [str(name) for name in bayes.classes_]
    return model


def train(
    examples: Sequence[Example],
    *,
    language_examples: Sequence[tuple[str, str]] = (),
    memory: dict[str, str] | None = None,
    meta: dict[str, Any] | None = None,
) -> CompactModel:
    """A model trained on `examples`; `language_examples` are (text, language) pairs."""
    intents, languages = fit(examples, language_examples)
    return compact(intents, languages, memory=memory, meta=meta)


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


def evaluate(model: CompactModel, examples: Sequence[Any]) -> Score:
    """Accuracy and macro-F1 of `model` on labelled examples (text, intent, language)."""
    predictions = model.classify([example.text for example in examples])
    truth = [example.intent for example in examples]
    found = [prediction.intent for prediction in predictions]
    per_language: dict[str, dict[str, float]] = {}
    for language in sorted({example.language for example in examples}):
        rows = [i for i, example in enumerate(examples) if example.language == language]
        wanted = [truth[i] for i in rows]
        got = [found[i] for i in rows]
        per_language[language] = {
            "examples": len(rows),
            "accuracy": round(accuracy_score(wanted, got), 4),
            "macro_f1": round(f1_score(wanted, got, average="macro", zero_division=0), 4),
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
