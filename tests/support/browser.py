"""Headless Chromium for the tests that must see a page render offline (Debian's `chromium`
package; .ci/run installs it). Network access is cut off, so a page that needs a CDN shows
it by failing to render."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
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


def rendered_dom_until(page: Path, drawn: Callable[[str], bool], attempts: int = 3) -> str:
    """`rendered_dom`, tried again (up to `attempts` times) while `drawn` says the page's
    scripts have not finished: on a loaded 2-core machine headless Chromium's virtual time
    now and then ends before a large inline script (Splink's comparison viewer) has drawn.
    A page that never draws still fails."""
    dom = ""
    for _ in range(attempts):
        dom = rendered_dom(page)
        if drawn(dom):
            break
    return dom


def screenshot(page: Path, out: Path, height: int = 2400) -> Path:
    subprocess.run([*_base(), f"--screenshot={out}", f"--window-size=1280,{height}",
                    page.as_uri()], capture_output=True, timeout=180, check=True)
    return out
