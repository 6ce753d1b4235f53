"""Builds messages.jsonl, the labelled set triage ships, from the hand-written files beside it.

    .venv/bin/python triage/data/build_dataset.py

Deterministic (fixed seed): the same files give the same set. Steps:
1. read handwritten_<lang>.txt ("## <intent>" sections, one buyer message per line);
2. hold out about a fifth of each (intent, language) cell, chosen by a seeded shuffle: the
   "test" split, hand-written messages only, never trained on and never varied;
3. the rest ("train") is kept as written and, for variety of spelling and framing, each gets
   two machine-made variants (lower case, accents dropped, a typo, a greeting, an order number,
   emoji, a second message of the same intent joined to it). Variants are marked
   origin="variant" and are made from training messages only, so nothing of a held-out message
   leaks into training;
4. the short key phrases of phrases.txt (hand-written too, for vocabulary: synonyms, slang,
   carriers' words) are framed the same way into training messages, origin="composed".
"""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 18
TEST_SHARE = 0.2

GREETINGS = {
    "en": ["Hi", "Hello", "hey", "Hi there,", "Good morning,", "hello seller"],
    "fr": ["Bonjour", "Salut", "bjr", "Bonsoir,", "Bonjour madame, monsieur,", "coucou"],
    "es": ["Hola", "Buenas", "Buenos días,", "hola buenas tardes", "Qué tal,", "holaa"],
}
SUFFIXES = {
    "en": ["thanks", "thank you", "pls", "asap", "??", "!!", "🙏", "😕", "thx in advance"],
    "fr": ["merci", "svp", "merci d'avance", "??", "!!", "🙏", "😕", "cordialement"],
    "es": ["gracias", "por favor", "porfa", "??", "!!", "🙏", "😕", "saludos"],
}
ORDER_REFS = {
    "en": ["order {n}", "my order number is {n}", "(order #{n})"],
    "fr": ["commande {n}", "ma commande n° {n}", "(commande {n})"],
    "es": ["pedido {n}", "mi número de pedido es {n}", "(pedido #{n})"],
}
JOINERS = {
    "en": [". Also, ", ". And ", " / "],
    "fr": [". Et aussi ", ". ", " / "],
    "es": [". Y ", ". También ", " / "],
}


def read_handwritten() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(HERE.glob("handwritten_*.txt")):
        language = path.stem.rsplit("_", 1)[1]
        intent = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("## "):
                intent = line[3:].strip()
            elif line.strip() and not line.startswith("# "):
                rows.append({"text": line.strip(), "intent": intent, "language": language})
    return rows


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    kind = rng.random()
    if kind < 0.4:
        word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]  # swapped letters
    elif kind < 0.7:
        word = word[:j] + word[j + 1 :]  # a letter dropped
    else:
        word = word[:j] + word[j] + word[j:]  # a letter doubled
    words[i] = word
    return " ".join(words)


def noisy(text: str, rng: random.Random) -> str:
    text = typo(text, rng)
    if rng.random() < 0.6:
        text = text.lower()
    if rng.random() < 0.6:
        text = strip_accents(text)
    if rng.random() < 0.5:
        text = text.rstrip("?.!¿¡ ").replace("¿", "").replace("¡", "")
    if rng.random() < 0.1:
        text = text.upper()
    return text


def framed(row: dict[str, str], same_cell: list[str], rng: random.Random) -> str:
    language, text = row["language"], row["text"]
    parts = []
    if rng.random() < 0.6:
        parts.append(rng.choice(GREETINGS[language]))
    parts.append(text)
    if rng.random() < 0.3 and row["intent"] not in ("thanks_closing", "other", "product_question"):
        number = "".join(str(rng.randrange(10)) for _ in range(18))
        parts.append(rng.choice(ORDER_REFS[language]).format(n="57" + number[:16]))
    if rng.random() < 0.25 and len(same_cell) > 1:
        other = rng.choice([t for t in same_cell if t != text])
        parts[-1] = (
            parts[-1].rstrip(".") + rng.choice(JOINERS[language]) + other[0].lower() + other[1:]
        )
    if rng.random() < 0.5:
        parts.append(rng.choice(SUFFIXES[language]))
    return " ".join(parts)


def read_phrases() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    intent = language = ""
    for line in (HERE / "phrases.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            intent, language = line[3:].split()
        elif line.strip() and not line.startswith("# "):
            for phrase in line.split("|"):
                rows.append({"text": phrase.strip(), "intent": intent, "language": language})
    return rows


def composed(rng: random.Random) -> list[dict[str, str]]:
    out = []
    phrases = read_phrases()
    by_cell: dict[tuple[str, str], list[str]] = {}
    for row in phrases:
        by_cell.setdefault((row["intent"], row["language"]), []).append(row["text"])
    for row in phrases:
        same = by_cell[(row["intent"], row["language"])]
        texts = {row["text"], framed(row, same, rng), noisy(framed(row, same, rng), rng)}
        for text in sorted(texts):
            out.append({**row, "text": text, "split": "train", "origin": "composed"})
    return out


def build() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    rows = read_handwritten()
    cells: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        cells.setdefault((row["intent"], row["language"]), []).append(row)
    out: list[dict[str, str]] = []
    for (_intent, _language), cell in sorted(cells.items()):
        order = list(range(len(cell)))
        rng.shuffle(order)
        held = set(order[: max(1, round(len(cell) * TEST_SHARE))])
        train_texts = [r["text"] for i, r in enumerate(cell) if i not in held]
        for i, row in enumerate(cell):
            split = "test" if i in held else "train"
            out.append({**row, "split": split, "origin": "hand"})
            if split == "train":
                seen = {row["text"]}
                for variant in (noisy(row["text"], rng), framed(row, train_texts, rng)):
                    if variant not in seen:
                        seen.add(variant)
                        out.append({**row, "text": variant, "split": "train", "origin": "variant"})
    held_texts = {row["text"].lower() for row in out if row["split"] == "test"}
    out.extend(composed(rng))
    # The same words written in two cells ("?", "test") stay held out in both.
    return [row for row in out if row["split"] == "test" or row["text"].lower() not in held_texts]


def main() -> None:
    rows = build()
    with (HERE / "messages.jsonl").open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
    hand = sum(1 for r in rows if r["origin"] == "hand")
    test = sum(1 for r in rows if r["split"] == "test")
    print(f"{len(rows)} messages ({hand} hand-written, {test} held out) -> messages.jsonl")


if __name__ == "__main__":
    main()
