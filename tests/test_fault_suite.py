"""The fault suite's short run (issue 9): bench/faults.py with a hundred-odd messages, workers
killed with SIGKILL and Redis restarted once, against this test database. The full run (100,000
messages) is recorded in bench/README.md."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.postgres, pytest.mark.faults]

# Small enough for `make test` (its time is mostly the recovery timeouts of what the kills left),
# big enough that every kill and the Redis restart land while messages, replies and the backfill
# are in flight. The sandbox makes 30 orders a day.
MESSAGES = 120
DAYS = 4


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_nothing_is_lost_or_doubled_when_workers_die_and_redis_restarts(transactional_db):
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    result = subprocess.run(
        [
            sys.executable,
            "bench/faults.py",
            "--messages",
            str(MESSAGES),
            "--conversations",
            "20",
            "--days",
            str(DAYS),
            "--kills",
            "3",
            "--kill-every",
            "1.5",
            "--redis-port",
            "6392",
            "--settle",
            "300",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = result.stdout
    assert result.returncode == 0, report + result.stderr[-3000:]
    assert (
        "missing 0, stored twice 0, conversations written in 20, their tickets 20 (the store's"
        in report
    )
    assert "twice or more 0, never 0" in report
    assert f"messages: written {MESSAGES}, stored {MESSAGES}, missing 0, stored twice 0" in report
    orders = 30 * DAYS
    assert f"orders on the platform {orders}, stored {orders}, missing 0, unexpected 0" in report
    assert "3 workers killed with SIGKILL, Redis restarted once" in report
    assert report.rstrip().endswith("OK: nothing lost, nothing doubled")
