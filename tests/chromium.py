"""How the browser tests start Debian's Chromium (Playwright's own browsers are never used)."""

import shutil

import pytest

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
