"""The WSGI entry point a server process loads (gunicorn config.wsgi:application)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_server_process_freezes_what_django_loaded_out_of_the_collectors_reach():
    # A fresh interpreter, as a server worker starts: Django and the apps are loaded, then
    # frozen (gc.freeze), so a full collection walks only what requests allocate.
    probe = "import gc, config.wsgi; print(gc.get_freeze_count())"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout.split()[-1]) > 10_000
