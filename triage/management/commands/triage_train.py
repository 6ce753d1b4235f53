"""Trains the shipped triage model from triage/data/messages.jsonl and scores it on the held-out
split (never trained on). Offline, a few seconds on one core.

    python manage.py triage_train                # writes settings.TRIAGE_MODEL_PATH
    python manage.py triage_train --if-missing   # only when there is no usable file (make run)
    python manage.py triage_train --output x.pkl --json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from triage.compact import CompactModel
from triage.engine import model_path, model_save, shipped_model_forget, shipped_model_train


class Command(BaseCommand):
    help = "Trains the shipped triage classifier and prints its scores on the held-out set."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output", help="Where to write the model (default: TRIAGE_MODEL_PATH)."
        )
        parser.add_argument(
            "--if-missing", action="store_true", help="Keep a usable existing file."
        )
        parser.add_argument("--json", action="store_true", help="Print the scores as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["output"]) if options["output"] else model_path()
        if options["if_missing"] and path.exists():
            try:
                CompactModel.from_bytes(path.read_bytes())
            except ValueError:
                pass
            else:
                self.stdout.write(f"Triage model {path} is present.")
                return
        model = shipped_model_train()
        model_save(model, path)
        shipped_model_forget()
        scores = model.meta["held_out"]
        if options["json"]:
            self.stdout.write(json.dumps({"path": str(path), **model.meta}, indent=2))
            return
        self.stdout.write(
            f"Trained on {model.meta['examples']} messages in {model.meta['train_seconds']} s; "
            f"wrote {path}."
        )
        self.stdout.write(
            f"Held-out ({scores['examples']} hand-written messages, never trained on): "
            f"accuracy {scores['accuracy']:.1%}, macro-F1 {scores['macro_f1']:.3f}; "
            f"language {scores['language_accuracy']:.1%}"
        )
        for language, row in scores["per_language"].items():
            self.stdout.write(
                f"  {language}: {row['examples']} messages, accuracy {row['accuracy']:.1%}, "
                f"macro-F1 {row['macro_f1']:.3f}"
            )
