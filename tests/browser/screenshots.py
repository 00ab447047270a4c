"""Render every page of two académies' help sites at phone and desktop widths into
docs/screenshots/<profile>/: Aix-Marseille's, and the fictional Lyon one of the tests (logo, brand
colour, help desk, a current notice).

Run through ``scripts/screenshots``; it uses the same server and browser set-up as the browser tests.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from autoconfig.web.site.pages import BY_KEY, PAGES
from tests.browser import harness
from tests.lyon import LYON_DOMAIN, LYON_HOST

OUT = harness.ROOT / "docs" / "screenshots"
SITES = (
    ("ac-aix-marseille", harness.HOSTS[0], "pierre.dupont%40ac-aix-marseille.fr"),
    ("ac-lyon", LYON_HOST, f"marie.curie%40{LYON_DOMAIN}"),
)
"""(folder, host, address of the personalised setup page) of each site shown."""


def shots(personal: str) -> list[tuple[str, str, str]]:
    """(file stem, language, path) of every page, plus the personalised setup page."""
    result = [
        (f"{lang}-{page.key}", lang, page.path(lang)) for lang in ("fr", "en") for page in PAGES
    ]
    for lang in ("fr", "en"):
        setup = BY_KEY["setup"].path(lang)
        result.append((f"{lang}-setup-personal", lang, f"{setup}?email={personal}"))
    return result


def main() -> int:
    widths = {"phone": harness.PHONE, "desktop": harness.DESKTOP}
    with (
        tempfile.TemporaryDirectory() as workdir,
        harness.serve(Path(workdir)) as server,
        sync_playwright() as playwright,
    ):
        browser = harness.launch(playwright)
        try:
            for folder, host, personal in SITES:
                out = OUT / folder
                out.mkdir(parents=True, exist_ok=True)
                for width, viewport in widths.items():
                    context = browser.new_context(viewport=viewport, java_script_enabled=False)
                    page = context.new_page()
                    for stem, _, path in shots(personal):
                        page.goto(server.url(host, path))
                        target = out / f"{stem}-{width}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(target.relative_to(harness.ROOT))
                    context.close()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
