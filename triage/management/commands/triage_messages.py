"""Labels messages offline: JSON lines with a "text" in, one JSON line per message out.

    echo '{"text": "where is my parcel?"}' | python manage.py triage_messages
    {"intent": "order_status", "confidence": 0.87, "language": "en", "urgent": false}

Uses the shipped model only (no organisation's corrections, no database). A line that is not a
JSON object with a string "text" gets {"error": "..."} and the next line goes on.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from triage.engine import label_texts, shipped_model

BATCH = 256  # lines labelled together (one vectorised call), then written


class Command(BaseCommand):
    help = (
        'Reads JSON lines with a "text" from standard input; writes intent, confidence, '
        "language and urgency per line."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        model = shipped_model()
        pending: list[tuple[str | None, str]] = []  # (text, error)

        def flush() -> None:
            texts = [text for text, _ in pending if text is not None]
            labels = iter(label_texts(texts, model=model) if texts else [])
            for text, error in pending:
                answer = next(labels).as_dict() if text is not None else {"error": error}
                self.stdout.write(json.dumps(answer, ensure_ascii=False))
            self.stdout.flush()
            pending.clear()

        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                pending.append((None, f"not JSON: {error}"))
            else:
                text = row.get("text") if isinstance(row, dict) else None
                if isinstance(text, str):
                    pending.append((text, ""))
                else:
                    pending.append((None, 'each line needs a "text" string'))
            if len(pending) >= BATCH:
                flush()
        flush()
