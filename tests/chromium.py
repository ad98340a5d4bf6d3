"""How the browser tests start Debian's Chromium (Playwright's own browsers are never used)."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-component-update",
]
#: Marks a browser test; skips it, with the reason printed (-ra), where Chromium is missing.
requires_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not shutil.which(CHROMIUM), reason=f"{CHROMIUM} is missing: no browser to drive"
    ),
]

SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
#: A full-page screenshot costs Chromium about half a second of CPU, so the browser tests take
#: theirs only when asked: ``make screenshots`` (``SCREENSHOTS=1``), to look at the pages.
TAKE_SCREENSHOTS = os.environ.get("SCREENSHOTS") == "1"


def screenshot(target, name: str, *, full_page: bool = True) -> Path | None:
    """Save ``artifacts/screenshots/<name>.png`` of a page (or of a locator's element) where
    screenshots are asked for."""
    if not TAKE_SCREENSHOTS:
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if hasattr(target, "goto"):  # a page
        target.screenshot(path=str(path), full_page=full_page)
    else:
        target.screenshot(path=str(path))
    return path
