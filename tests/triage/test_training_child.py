"""A worker that finds no model file trains it in a child process: the file appears, labels
come from the classifier, and scikit-learn never enters the worker (bench/triage.py measured
+112 MB in a worker that trained it itself on a fresh clone, against +21 MB that only loads it).
Where the child cannot run, the worker trains it itself: labelling still gets a model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

from triage import engine
from triage.labels import LabelSource

PROBE = """
import json, sys
import django
django.setup()
from triage.engine import label_texts
(label,) = label_texts(["Where is my parcel? It still has not arrived"])
print(json.dumps({"intent": label.intent, "source": label.source,
                  "sklearn": any(name.split(".")[0] == "sklearn" for name in sys.modules)}))
"""


def test_a_missing_model_is_trained_in_a_child_and_the_worker_stays_small(tmp_path):
    model = tmp_path / "triage" / "model.pkl"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TRIAGE_MODEL_PATH": str(model),
        "TRIAGE_TRAIN_MISSING_MODEL": "true",
    }
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"intent": "order_status", "source": LabelSource.MODEL, "sklearn": False}
    assert model.exists()


def test_without_a_child_the_worker_trains_the_model_itself(settings, tmp_path, caplog):
    settings.TRIAGE_MODEL_PATH = str(tmp_path / "model.pkl")
    settings.TRIAGE_TRAIN_MISSING_MODEL = True
    settings.BASE_DIR = tmp_path / "installed-without-manage-py"
    engine.shipped_model_forget()
    try:
        (label,) = engine.label_texts(["Where is my parcel? It still has not arrived"])
    finally:
        engine.shipped_model_forget()
    assert (label.intent, label.source) == ("order_status", LabelSource.MODEL)
    assert (tmp_path / "model.pkl").exists()
