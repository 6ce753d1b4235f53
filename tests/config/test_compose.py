"""docker-compose.yml: web and worker share the media volume (a reply image attached on web is
read by the worker that sends it), owned by the image's user."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_web_and_worker_mount_one_media_volume_at_media_root():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    media_root = services["web"]["environment"]["MEDIA_ROOT"]
    assert media_root == services["worker"]["environment"]["MEDIA_ROOT"] == "/app/media"
    for name in ("web", "worker"):
        assert f"media:{media_root}" in services[name]["volumes"], name
    assert "media" in compose["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "mkdir -p /app/var /app/staticfiles /app/media" in dockerfile
    assert "chown -R sellerdesk:sellerdesk /app/var /app/staticfiles /app/media" in dockerfile
