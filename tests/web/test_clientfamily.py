from __future__ import annotations

import pytest

from autoconfig.web.clientfamily import NAMES, family

CASES = [
    (
        "/mail/config-v1.1.xml",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0",
        "thunderbird",
    ),
    (
        "/autodiscover/autodiscover.xml",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
        "outlook",
    ),
    ("/mail/config-v1.1.xml", "Evolution/3.46.4", "evolution"),
    (
        "/mobileconfig",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15",
        "apple",
    ),
    (
        "/aide/",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
        "browser",
    ),
    ("/mail/config-v1.1.xml", "curl/7.88.1", "script"),
    ("/mail/config-v1.1.xml", None, "other"),
    ("/mail/config-v1.1.xml", "", "other"),
    ("/mail/config-v1.1.xml", "SomethingNew/1.0", "other"),
    ("/healthz", "Go-http-client/1.1", "monitor"),
    ("/metrics", "Prometheus/2.45.0", "monitor"),
]


@pytest.mark.parametrize(("path", "agent", "expected"), CASES)
def test_family(path: str, agent: str | None, expected: str) -> None:
    assert family(path, agent) == expected


@pytest.mark.parametrize(("path", "agent", "expected"), CASES)
def test_family_is_a_known_name_never_the_agent(
    path: str, agent: str | None, expected: str
) -> None:
    assert family(path, agent) in NAMES
    assert family(path, agent) != agent
