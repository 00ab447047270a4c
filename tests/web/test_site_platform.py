"""The setup page's app sections in the visitor's order: their own platform first."""

from __future__ import annotations

import pytest

from autoconfig.web.site.platform import SECTIONS, sections

AGENTS = [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15", "apple"),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15", "apple"),
    ("Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131.0 Mobile", "android"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 Safari/605.1.15", "mac"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", "thunderbird"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "thunderbird"),
    ("", "thunderbird"),
    (None, "thunderbird"),
    ("x" * 5000 + "iPhone", "thunderbird"),
]


@pytest.mark.parametrize(("agent", "first"), AGENTS)
def test_own_platform_first_then_the_others_in_their_order(agent: str | None, first: str) -> None:
    order = sections(agent)
    assert order[0] == first
    assert sorted(order) == sorted(SECTIONS)
    assert [s for s in order if s != first] == [s for s in SECTIONS if s != first]
