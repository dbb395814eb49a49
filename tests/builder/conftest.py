"""The builder's browser tests use the shared fixtures of tests/browser.py (a real Chromium on
the live site, logged in as alice); this adds alice's API client and the docs' screenshots."""

import os
from pathlib import Path

from playwright.sync_api import Page

DOC_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def save_doc_screenshot(page: Page, name: str) -> None:
    """Refresh the screenshots in docs/ when asked to (DOCS_SCREENSHOTS=1)."""
    if os.environ.get("DOCS_SCREENSHOTS"):
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_SCREENSHOTS / f"{name}.png"))
