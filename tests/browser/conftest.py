"""Browser tests: Playwright driving Debian's chromium (never a downloaded browser).

Skipped with a reason where /usr/bin/chromium or Playwright's driver is missing
(``.ci/run`` installs the ``chromium`` package as root; ``make test`` on a laptop without it
skips). Chromium runs headless with the flags that keep it off the network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CATALYST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"Debian's chromium is not installed at {CHROMIUM} (apt-get install -y chromium; "
            ".ci/run does this as root); browser tests never download a browser"
        )
    try:
        from playwright._impl._driver import compute_driver_executable
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError as exc:
        return f"Playwright is not installed ({exc}); pip install -e '.[dev]'"
    driver = compute_driver_executable()
    parts = driver if isinstance(driver, tuple) else (driver,)
    missing = [str(p) for p in parts if not Path(p).exists()]
    if missing:
        return f"Playwright's driver is missing ({', '.join(missing)})"
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A launched headless chromium (Playwright ``Browser``), shared by one module's tests
    (module scope: the sync API's own event loop stays away from async tests elsewhere)."""
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()
