from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import PIERRE, PIERRE_LOGIN


def test_known_address_gets_its_login(client: TestClient) -> None:
    response = client.get("/mail/config-v1.1.xml", params={"emailaddress": PIERRE})
    assert response.status_code == 200
    assert f"<username>{PIERRE_LOGIN}</username>".encode() in response.content
