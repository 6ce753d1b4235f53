"""Sends the health task and waits for a worker to answer: exit 0 with its reply, or 1."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from config.celery import health


class Command(BaseCommand):
    help = "Check that a Celery worker is consuming tasks."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--timeout", type=float, default=15.0)

    def handle(self, *args, timeout: float, **options) -> None:
        result = health.delay()
        try:
            reply = result.get(timeout=timeout)
        except Exception as exc:
            raise CommandError(
                f"No worker answered within {timeout:g}s ({exc.__class__.__name__})."
            ) from exc
        self.stdout.write(f"worker {reply['worker']} answered at {reply['at']}")
