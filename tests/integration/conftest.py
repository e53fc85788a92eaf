"""These tests check the signal path end to end, so they need predictions that vary: they run on
the plumbing model (``tests/models/README.md``) unless ``TICKWISE_MODEL`` is already set. The
shipped model has no skill on 5-minute direction and says 0.5 for every row."""

from __future__ import annotations

import os
from pathlib import Path

PLUMBING_MODEL = Path(__file__).resolve().parents[1] / "models" / "plumbing"
os.environ.setdefault("TICKWISE_MODEL", str(PLUMBING_MODEL))
