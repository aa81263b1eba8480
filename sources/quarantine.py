"""The landing area's quarantine folder: where rejected rows and files are kept, as delivered,
for the data owner to correct at source.

They hold names, NHS numbers and dates of birth, so the folder is restricted to the account
that runs the pipeline (directories 0700, files 0600) whatever the process's umask; the
warehouse's `dq.quarantine` holds only where and why, never row content.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

DIR_MODE, FILE_MODE = 0o700, 0o600


def quarantine_folder(landing_dir: Path, source: str, night: date) -> Path:
    """`<landing>/quarantine/<source>/<night>/`, created owner-only."""
    top = landing_dir / "quarantine"
    folder = top / source / night.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for part in (top, top / source):
        try:
            os.chmod(part, DIR_MODE)
        except PermissionError:
            pass  # made by operations under another account: the night's folder still is
    os.chmod(folder, DIR_MODE)
    return folder


def restrict(path: Path) -> Path:
    """Owner-only permissions on a file written, or on a folder copied, into quarantine."""
    if path.is_dir():
        for root, _dirs, files in os.walk(path):
            os.chmod(root, DIR_MODE)
            for name in files:
                os.chmod(os.path.join(root, name), FILE_MODE)
    else:
        os.chmod(path, FILE_MODE)
    return path
