"""Expectation test fixtures: the frame builders sit beside the tests (no package)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
