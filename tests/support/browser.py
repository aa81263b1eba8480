"""Headless Chromium for the tests that must see a page render offline (Debian's `chromium`
package; .ci/run installs it). Network access is cut off, so a page that needs a CDN shows
it by failing to render."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def chromium_available() -> bool:
    return bool(shutil.which("chromium") or shutil.which("chromium-browser"))


def chromium() -> str:
    """The browser's path, or skip the test saying how to get one."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium not installed (Debian package `chromium`; .ci/run "
                    "installs it)")
    return browser


def _base() -> list[str]:
    return [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--allow-file-access-from-files",
            # Virtual time runs ahead while the page is idle, so a generous budget costs
            # little; 5 s was too short for Splink's Vega charts on a loaded 2-core machine.
            "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=30000"]


def rendered_dom(page: Path) -> str:
    """The DOM after scripts ran (so charts drawn by inline JavaScript are in it)."""
    proc = subprocess.run([*_base(), "--dump-dom", page.as_uri()], capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def screenshot(page: Path, out: Path, height: int = 2400) -> Path:
    subprocess.run([*_base(), f"--screenshot={out}", f"--window-size=1280,{height}",
                    page.as_uri()], capture_output=True, timeout=180, check=True)
    return out
