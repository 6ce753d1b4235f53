"""Urgency: anger, threats of a bad review or a dispute, shouting, and a buyer writing again and
again without an answer. Word lists in the three languages of the shipped model; plain rules,
so that an agent can see why a ticket was raised (`reasons`)."""

from __future__ import annotations

import re

from .text import letters, without_accents

# Matched on lower-case text without accents.
_ANGER = re.compile(
    r"\b(ridiculous|unacceptable|scam+(er|ers)?|fraud|worst|disgusting|terrible|horrible|"
    r"pathetic|useless|furious|angry|fed up|wtf|liars?|thie(f|ves)|rip ?off|joke|"
    r"arnaque|escroc|inadmissible|honteux|honte|scandaleux|n'importe quoi|ras le bol|marre|"
    r"furieux|furieuse|voleurs?|lamentable|"
    r"estafa|estafadores?|fraude|verguenza|inaceptable|pesimo|harto|harta|ladrones|rateros|"
    r"basura|una burla)\b"
)
_THREAT = re.compile(
    r"(bad review|negative review|1[ -]?star|one star|report (you|this|your)|dispute|"
    r"charge ?back|\bbbb\b|lawyer|\bsue\b|police|consumer protection|"
    r"mauvais avis|avis negatif|1 etoile|une etoile|litige|signaler|avocat|plainte|"
    r"mala resena|resena negativa|mala calificacion|1 estrella|una estrella|denuncia|profeco|"
    r"disputa|abogado|contracargo|queja formal)"
)
_EXCLAIMS = re.compile(r"[!?]{3,}")
# Buyer messages waiting for an answer at which a ticket counts as urgent.
REPEATED_MESSAGES = 3


def urgency_reasons(text: str) -> list[str]:
    """Why this message is urgent (empty: it is not)."""
    plain = without_accents((text or "")[:2000]).lower()
    reasons = []
    if _ANGER.search(plain):
        reasons.append("anger")
    if _THREAT.search(plain):
        reasons.append("threat")
    upper = sum(1 for char in text if char.isupper())
    if (letters(text) >= 12 and upper / letters(text) >= 0.7) or _EXCLAIMS.search(text or ""):
        reasons.append("shouting")
    return reasons


def is_urgent(text: str) -> bool:
    return bool(urgency_reasons(text))
