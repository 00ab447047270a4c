"""Render every page of the académie's help site at phone and desktop widths into docs/screenshots/.

Run through ``scripts/screenshots``; it uses the same server and browser set-up as the browser tests.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from autoconfig.web.site.pages import BY_KEY, PAGES
from tests.browser import harness

OUT = harness.ROOT / "docs" / "screenshots"
PERSONAL = "pierre.dupont%40ac-aix-marseille.fr"


def shots() -> list[tuple[str, str, str]]:
    """(file stem, language, path) of every page, plus the personalised setup page."""
    result = [
        (f"{lang}-{page.key}", lang, page.path(lang)) for lang in ("fr", "en") for page in PAGES
    ]
    for lang in ("fr", "en"):
        setup = BY_KEY["setup"].path(lang)
        result.append((f"{lang}-setup-personal", lang, f"{setup}?email={PERSONAL}"))
    return result


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    widths = {"phone": harness.PHONE, "desktop": harness.DESKTOP}
    with (
        tempfile.TemporaryDirectory() as workdir,
        harness.serve(Path(workdir)) as server,
        sync_playwright() as playwright,
    ):
        browser = harness.launch(playwright)
        try:
            for width, viewport in widths.items():
                context = browser.new_context(viewport=viewport, java_script_enabled=False)
                page = context.new_page()
                for stem, _, path in shots():
                    page.goto(server.url(harness.HOSTS[0], path))
                    target = OUT / f"{stem}-{width}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(target.relative_to(harness.ROOT))
                context.close()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
