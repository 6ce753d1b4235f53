"""The official TikTok Shop samples the tests read: `tests/fixtures/tiktok/`.

They are copies, byte for byte, of the project's reference samples (see that folder's README.md for
where each one came from); the repository needs nothing beside it to run its tests.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "tiktok"
