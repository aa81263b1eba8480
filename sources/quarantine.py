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

from carelink.private import DIR_MODE, private_dir, restrict

__all__ = ["FORMAT_FAULT_ROWS", "quarantine_folder", "restrict"]

# Row by row, a bad value is a slip and its row is quarantined. More failing values than this
# in one column, and not one that parses, is the export's format changing: the delivery (or
# the LAS night) is rejected instead, so that no slice of it is silently left out.
FORMAT_FAULT_ROWS = 5


def quarantine_folder(landing_dir: Path, source: str, night: date) -> Path:
    """`<landing>/quarantine/<source>/<night>/`, created owner-only."""
    top = landing_dir / "quarantine"
    folder = private_dir(top / source / night.isoformat())
    for part in (top, top / source):
        try:
            os.chmod(part, DIR_MODE)
        except PermissionError:
            pass  # made by operations under another account: the night's folder still is
    return folder
