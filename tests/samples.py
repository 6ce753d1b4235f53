"""Where the official TikTok Shop samples are: `shared/tiktok-samples/` beside the checkout.

CI clones the repository with `shared/` next to it; SELLERDESK_SHARED_DIR points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SELLERDESK_SHARED_DIR") or _ROOT.parent / "shared")
SAMPLES = SHARED / "tiktok-samples"
