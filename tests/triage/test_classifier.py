"""The shipped classifier: held-out scores, a sample of each intent in each language, bad input,
rules, urgency, fallback when the model file is missing or corrupt, the offline command."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command

from triage import dataset
from triage.classifier import evaluate
from triage.engine import MessageInput, label_messages, label_texts, shipped_model_forget
from triage.labels import INTENTS
from triage.urgency import urgency_reasons

SAMPLES = {
    "order_status": [
        "hi when will you ship my order? it's been 5 days",
        "bonjour, vous pouvez me donner le numéro de suivi ?",
        "¿cuándo envían mi pedido?",
    ],
    "delivery_problem": [
        "tracking says delivered yesterday but there is nothing at my door",
        "mon colis est bloqué depuis 10 jours",
        "dice entregado pero no me llegó nada",
    ],
    "damaged_or_wrong_item": [
        "the glass arrived shattered",
        "j'ai reçu la mauvaise taille",
        "el producto llegó roto",
    ],
    "return_refund": [
        "how can I return this and get my money back",
        "je veux être remboursée",
        "quiero devolver el producto",
    ],
    "cancel_order": [
        "please cancel my order I don't want it",
        "annulez ma commande svp",
        "quiero cancelar mi pedido",
    ],
    "change_order": [
        "can I change the shipping address on my order",
        "je voudrais changer la taille de ma commande",
        "necesito cambiar la dirección de envío",
    ],
    "product_question": [
        "is this dress true to size?",
        "c'est en quelle matière ?",
        "¿lo tienen en talla grande?",
    ],
    "discount_coupon": [
        "my coupon code isn't working",
        "vous avez un code promo ?",
        "¿tienen algún cupón de descuento?",
    ],
    "payment_issue": [
        "I was charged twice for one order",
        "j'ai besoin d'une facture",
        "me cobraron dos veces",
    ],
    "thanks_closing": ["thank you so much!", "merci beaucoup, bonne journée", "muchas gracias!"],
    "other": ["hello", "bonjour", "hola"],
}


def test_the_intents_are_exactly_the_issues_labels():
    assert INTENTS == (
        "order_status",
        "delivery_problem",
        "damaged_or_wrong_item",
        "return_refund",
        "cancel_order",
        "change_order",
        "product_question",
        "discount_coupon",
        "payment_issue",
        "thanks_closing",
        "other",
    )
    assert {example.intent for example in dataset.examples()} == set(INTENTS)


def test_the_held_out_split_is_hand_written_and_never_trained_on():
    held_out = dataset.held_out()
    training_texts = {example.text.lower() for example in dataset.training()}
    assert len(held_out) >= 80
    assert {example.origin for example in held_out} == {"hand"}
    assert {example.language for example in held_out} == {"en", "fr", "es"}
    assert not [example.text for example in held_out if example.text.lower() in training_texts]


def test_held_out_accuracy_and_macro_f1_reach_the_target(shipped):
    score = evaluate(shipped, dataset.held_out())
    assert score.accuracy >= 0.9
    assert score.macro_f1 >= 0.9
    assert score.language_accuracy >= 0.95


@pytest.mark.parametrize("intent", INTENTS)
def test_a_sample_of_each_intent_in_each_language(shipped, intent):
    labels = label_texts(SAMPLES[intent], model=shipped)
    assert [label.intent for label in labels] == [intent] * 3


def test_languages_detected_offline(shipped):
    labels = label_texts(
        ["where is my parcel please", "où est mon colis s'il vous plaît", "dónde está mi paquete"],
        model=shipped,
    )
    assert [label.language for label in labels] == ["en", "fr", "es"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀🙏😀",
        "576469260282336209",
        "?!",
        "x" * 2000,
        "where is " * 250,
        "hello bonjour hola where est mi pedido ??",
    ],
)
def test_bad_input_gets_an_answer_never_an_error(shipped, text):
    (label,) = label_texts([text], model=shipped)
    assert label.intent in INTENTS
    assert 0.0 <= label.confidence <= 1.0
    assert label.language in ("en", "fr", "es", "und")


def test_text_without_words_is_other_with_no_confidence(shipped):
    labels = label_texts(["", "😀😀", "576469260282336209"], model=shipped)
    assert [(label.intent, label.confidence, label.language) for label in labels] == [
        ("other", 0.0, "und")
    ] * 3


def test_rule_return_request_card_is_return_refund(shipped):
    (label,) = label_messages([MessageInput(text="", type="RETURN_REFUND_CARD")], model=shipped)
    assert (label.intent, label.source, label.rule, label.sets_topic) == (
        "return_refund",
        "rule",
        "return request",
        True,
    )


def test_rule_order_card_is_order_status_unless_the_ticket_has_a_topic(shipped):
    alone, after_claim = label_messages(
        [
            MessageInput(text="", type="ORDER_CARD", ticket_intent=""),
            MessageInput(text="", type="ORDER_CARD", ticket_intent="damaged_or_wrong_item"),
        ],
        model=shipped,
    )
    assert (alone.intent, alone.rule, alone.sets_topic) == ("order_status", "order card", True)
    assert (after_claim.sets_topic, after_claim.rule) == (False, "order card")


def test_rule_image_after_a_damage_claim_is_damage(shipped):
    after_claim, alone = label_messages(
        [
            MessageInput(text="", type="IMAGE", ticket_intent="damaged_or_wrong_item"),
            MessageInput(text="", type="IMAGE", ticket_intent="order_status"),
        ],
        model=shipped,
    )
    assert (after_claim.intent, after_claim.rule, after_claim.sets_topic) == (
        "damaged_or_wrong_item",
        "image after a damage claim",
        True,
    )
    assert (alone.intent, alone.sets_topic) == ("other", False)


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("This is a SCAM, worst shop ever", ["anger"]),
        ("I will leave a 1 star review", ["threat"]),
        ("je vais ouvrir un litige", ["threat"]),
        ("es una estafa, voy a poner una queja formal en PROFECO", ["anger", "threat"]),
        ("WHERE IS MY ORDER I PAID TWO WEEKS AGO", ["shouting"]),
        ("where is my order???", ["shouting"]),
        ("where is my order?", []),
        ("Thanks, I loved it", []),
    ],
)
def test_urgency_reasons(text, reasons):
    assert urgency_reasons(text) == reasons


def test_missing_model_file_falls_back_to_rules_with_a_log_line(settings, tmp_path, caplog):
    settings.TRIAGE_MODEL_PATH = str(tmp_path / "absent.pkl")
    settings.TRIAGE_TRAIN_MISSING_MODEL = False
    shipped_model_forget()
    with caplog.at_level(logging.ERROR, logger="triage.engine"):
        labels = label_texts(["where is my parcel", "", "I'll open a dispute"])
    assert [(label.intent, label.confidence, label.urgent) for label in labels] == [
        ("other", 0.0, False),
        ("other", 0.0, False),
        ("other", 0.0, True),
    ]
    assert "absent.pkl is missing: labelling by rules only" in caplog.text
    rule = label_messages([MessageInput(text="", type="RETURN_REFUND_CARD")], model=None)
    assert rule[0].intent == "return_refund"
    shipped_model_forget()


def test_corrupt_model_file_falls_back_to_rules_with_a_log_line(settings, tmp_path, caplog):
    corrupt = tmp_path / "model.pkl"
    corrupt.write_bytes(b"\x80\x04not a pickle at all")
    settings.TRIAGE_MODEL_PATH = str(corrupt)
    settings.TRIAGE_TRAIN_MISSING_MODEL = True  # a corrupt file is not retrained behind one's back
    shipped_model_forget()
    with caplog.at_level(logging.ERROR, logger="triage.engine"):
        (label,) = label_texts(["where is my parcel"])
    assert (label.intent, label.source) == ("other", "rule")
    assert "cannot be used" in caplog.text and "labelling by rules only" in caplog.text
    shipped_model_forget()


def test_triage_messages_command_reads_and_writes_json_lines(shipped, monkeypatch):
    lines = [
        {"text": "it says delivered but nothing's at my door"},
        {"text": ""},
        {"text": "Annulez ma commande tout de suite, c'est une arnaque !!!"},
        {"nope": 1},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("triage_messages", stdout=out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert answers[0]["intent"] == "delivery_problem"
    assert answers[0]["language"] == "en"
    assert answers[0]["urgent"] is False
    assert answers[1] == {"intent": "other", "confidence": 0.0, "language": "und", "urgent": False}
    assert (answers[2]["intent"], answers[2]["language"], answers[2]["urgent"]) == (
        "cancel_order",
        "fr",
        True,
    )
    assert answers[3] == {"error": 'each line needs a "text" string'}
    assert answers[4]["error"].startswith("not JSON")
    assert len(answers) == 5


def test_the_compact_model_gives_scikit_learns_numbers():
    from triage.classifier import Example, compact, fit
    from triage.compact import intent_text, language_text

    training = dataset.training()[::4]  # a quick fit: the arithmetic, not the accuracy
    intents, languages = fit(
        [Example(e.text, e.intent) for e in training], [(e.text, e.language) for e in training]
    )
    model = compact(intents, languages)
    texts = [example.text for example in dataset.held_out()] + ["", "😀", "x" * 2000]
    cleaned = [intent_text(text) for text in texts]
    expected = intents.predict_proba(cleaned)
    assert abs(model.intent_probabilities(cleaned) - expected).max() < 1e-9
    plain = [language_text(text) for text in texts]
    assert model.languages(plain) == list(languages.predict(plain))
