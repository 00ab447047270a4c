"""Fixtures of the browser tests: one ``autoconfig serve`` for the session, one Chromium per module.

Playwright's synchronous API keeps an asyncio event loop running in the main thread for as long
as it lives, and no other test may then run a loop of its own (``anyio.run`` in the CLI, the
service's lookups): so Playwright and its browser live only while a browser test module runs,
and are stopped before any other module, wherever the browser tests stand in the order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.browser import harness


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Server]:
    with harness.serve(tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    try:
        launched = harness.launch(playwright)
    except harness.MissingTool as exc:
        pytest.fail(str(exc))
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    try:
        harness.check_tools()
    except harness.MissingTool as exc:
        pytest.fail(str(exc))
    return harness.AXE.read_text(encoding="utf-8")


class Visit:
    """One browser page, with every request it made and every console message it printed."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.console: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda message: self.console.append(message.text))

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).hostname not in harness.HOSTS]

    def policy_violations(self) -> list[str]:
        return [text for text in self.console if "Content Security Policy" in text]


@pytest.fixture
def visit(browser: Browser) -> Iterator[Callable[..., Visit]]:
    """Open a fresh context (own cookies and cache) with the given options; closed after the test."""
    contexts: list[Any] = []

    def open_page(**options: Any) -> Visit:
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Visit(context.new_page())

    yield open_page
    for context in contexts:
        context.close()
