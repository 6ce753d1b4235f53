"""Triage's words for the ticket bar: the intents an agent can pick, and a ticket's label."""

from __future__ import annotations

from django import template

from ..labels import Intent, Language

register = template.Library()


@register.simple_tag
def triage_intents() -> list[tuple[str, str]]:
    return list(Intent.choices)


@register.filter
def intent_label(intent: str) -> str:
    return Intent(intent).label if intent in Intent.values else ""


@register.filter
def language_label(language: str) -> str:
    return Language(language).label if language in Language.values and language != "und" else ""
