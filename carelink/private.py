"""Owner-only folders and files for what holds identifiers outside the warehouse: the
landing area's quarantine, the nights' work folders, the restricted report folder (IG
linkage report, practices' reconciliation lists) and an embedded DuckDB warehouse.

Set whatever the process's umask: the Linux default (022) would make them readable by every
account on the host, and the contract gives identifiers to the pipeline and IG only.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE, FILE_MODE = 0o700, 0o600


def private_dir(path: Path) -> Path:
    """`path`, created if need be (parents with the umask), itself owner-only."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def restrict(path: Path) -> Path:
    """Owner-only permissions on a file, or on a folder and everything in it."""
    if path.is_dir():
        for root, _dirs, files in os.walk(path):
            os.chmod(root, DIR_MODE)
            for name in files:
                os.chmod(os.path.join(root, name), FILE_MODE)
    else:
        os.chmod(path, FILE_MODE)
    return path
