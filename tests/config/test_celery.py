"""A real worker process consumes real messages from the configured broker (no eager mode)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from config.celery import app, health

ROOT = Path(__file__).resolve().parents[2]


def test_celery_is_configured_for_json_and_time_limits():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT == 1800
    assert app.conf.task_soft_time_limit == 1500
    assert app.conf.task_always_eager is False
    assert "health-heartbeat" in app.conf.beat_schedule


def test_a_worker_process_answers_the_health_task(tmp_path):
    # Its own queue: tasks that other tests enqueued on the shared broker must not stand in line
    # before the health check (a solo worker takes them one at a time).
    queue = f"health-{os.getpid()}-{time.time_ns()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            f"--hostname=health-test-{os.getpid()}@%h",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-Q",
            queue,
        ],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        # This test is not inside a task; another test that ran tasks in-process may have left
        # Celery's "inside a task" flag set, so the guard against blocking is lifted explicitly.
        reply = health.apply_async(queue=queue).get(timeout=60, disable_sync_subtasks=False)
        assert reply["status"] == "ok"
        assert reply["worker"]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def test_worker_health_command_fails_clearly_without_a_worker():
    # No worker consumes this queue: the command must say so instead of hanging.
    env = dict(os.environ, CELERY_TASK_DEFAULT_QUEUE=f"nobody-listens-{time.time_ns()}")
    result = subprocess.run(
        [sys.executable, "manage.py", "worker_health", "--timeout", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "No worker answered within 2s" in result.stderr


@pytest.mark.redis
def test_the_cache_is_redis_when_redis_url_is_set():
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("sellerdesk-test-key", {"a": 1}, timeout=30)
    assert cache.get("sellerdesk-test-key") == {"a": 1}
    cache.delete("sellerdesk-test-key")
