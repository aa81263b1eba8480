"""Deliveries broken the way real exports break, for the tests of the quality gate."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def break_provider_export(folder: Path, keep: float = 0.1) -> None:
    """What a broken export looks like: carers.csv cut short, the manifest written to match
    (so the reader accepts it and only the gate's volume check can see it)."""
    carers = folder / "carers.csv"
    lines = carers.read_bytes().split(b"\r\n")
    header, rows = lines[0], [line for line in lines[1:] if line]
    rows = rows[: max(1, int(len(rows) * keep))]
    carers.write_bytes(b"\r\n".join([header, *rows]) + b"\r\n")
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8-sig"))
    manifest["files"]["carers.csv"] = {"rows": len(rows),
                                       "sha256": hashlib.sha256(carers.read_bytes()).hexdigest()}
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
