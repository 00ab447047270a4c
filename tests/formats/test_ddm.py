"""The declarative-management mail account, checked against Apple's declaration schemas."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from autoconfig.formats import ddm, mdm
from autoconfig.model import Auth, Provider, Security
from autoconfig.service import Service
from tests import apple_schema
from tests.conftest import each_profile, profile_id
from tests.golden import Golden

VENDORS = list(mdm.DECLARATIVE)


def bundle(provider: Provider, vendor: mdm.Vendor) -> dict[str, Any]:
    rendered = ddm.render(provider, vendor)
    assert rendered.media_type == "application/json"
    data: dict[str, Any] = json.loads(rendered.body)
    return data


def by_type(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["Type"]: d for d in data["declarations"]}


@each_profile
@pytest.mark.parametrize("vendor", VENDORS)
def test_golden(golden: Golden, provider: Provider, vendor: mdm.Vendor) -> None:
    golden(f"{profile_id(provider)}/ddm-{vendor}.json", ddm.render(provider, vendor).body)


@each_profile
@pytest.mark.parametrize("vendor", VENDORS)
def test_declarations_pass_apple_schemas(provider: Provider, vendor: mdm.Vendor) -> None:
    variants = [
        provider,
        replace(provider, caldav=None, carddav=None),
        replace(provider, imap=replace(provider.imap, port=143, security=Security.STARTTLS)),
        replace(provider, smtp=replace(provider.smtp, auth=Auth.PASSWORD_ENCRYPTED)),
    ]
    for variant in variants:
        data = bundle(variant, vendor)
        assert apple_schema.declaration_problems(data["declarations"]) == []
        assert data["credential"]["type"] == "com.apple.credential.usernameandpassword"
        assert apple_schema.credential_problems(data["credential"]["document"]) == []


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d[2]["Payload"]["IncomingServer"].pop("HostName"), "required key 'HostName'"),
        (lambda d: d[2]["Payload"]["IncomingServer"].update(ServerType="JMAP"), "'JMAP' is not"),
        (lambda d: d[2]["Payload"].update(Port=993), "'Port' is not a key"),
        (lambda d: d[2].update(Identifier="x" * 65), "65 octets"),
        (lambda d: d.pop(0), "names no declaration of the list"),
        (
            lambda d: d[0].update(
                Type="com.apple.asset.credential.userpassword",
                Payload={"Reference": {"DataURL": "https://x.invalid/"}},
            ),
            "expected one of",
        ),
        (
            lambda d: d[1]["Payload"]["Authentication"].update(Type="Basic"),
            "'Basic' is not allowed (expected one of ['MDM', 'None'])",
        ),
    ],
    ids=[
        "no-host",
        "server-type",
        "unknown-key",
        "long-id",
        "missing-asset",
        "wrong-asset",
        "asset-authentication",
    ],
)
def test_the_validator_catches_broken_declarations(
    service: Service, edit: Any, problem: str
) -> None:
    declarations = bundle(service.catalog.lookup("example.org"), mdm.Vendor.JAMF)["declarations"]
    edit(declarations)
    found = apple_schema.declaration_problems(declarations)
    assert any(problem in p for p in found), found


def test_intune_takes_no_declarations() -> None:
    """Intune's custom profiles are .mobileconfig files, and its settings catalog has no mail
    declaration: ``render ddm`` is not for it (the classic template is)."""
    assert mdm.Vendor.INTUNE not in mdm.DECLARATIVE
    assert set(mdm.DECLARATIVE) == {mdm.Vendor.JAMF, mdm.Vendor.WORKSPACE_ONE}


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_person_is_the_mdm_variables(service: Service, vendor: mdm.Vendor) -> None:
    variables = mdm.VARIABLES[vendor]
    for provider in service.catalog:
        data = bundle(provider, vendor)
        declarations = by_type(data)
        identity = declarations[ddm.IDENTITY]["Payload"]
        assert identity["EmailAddress"] == variables.address
        assert identity.get("FullName") == variables.name
        assert data["credential"]["document"] == {"UserName": mdm.person(provider, vendor).login}
        assert "Password" not in data["credential"]["document"]


def test_servers_and_references(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    declarations = by_type(bundle(provider, mdm.Vendor.JAMF))
    mail = declarations[ddm.MAIL]["Payload"]
    credential = declarations[ddm.CREDENTIAL]
    assert mail["UserIdentityAssetReference"] == declarations[ddm.IDENTITY]["Identifier"]
    assert mail["IncomingServer"] == {
        "ServerType": "IMAP",
        "HostName": "imap.ac-aix-marseille.fr",
        "Port": 993,
        "AuthenticationMethod": "Password",
        "AuthenticationCredentialsAssetReference": credential["Identifier"],
    }
    assert mail["OutgoingServer"]["HostName"] == "smtp.ac-aix-marseille.fr"
    assert mail["OutgoingServer"]["Port"] == 465
    # an authentication method other than None needs the credential (schema text)
    assert (
        mail["OutgoingServer"]["AuthenticationCredentialsAssetReference"]
        == credential["Identifier"]
    )
    assert credential["Payload"]["Reference"]["DataURL"].startswith("https://")
    # the document is per user: the device asks it as an MDM request, so the MDM answers each
    # device with its user's login (a document hosted as is would give all the variable itself)
    assert credential["Payload"]["Authentication"] == {"Type": "MDM"}
    assert mail["VisibleName"] == provider.short_name.default


def test_server_tokens_change_exactly_with_the_payload(service: Service) -> None:
    provider = service.catalog.lookup("example.org")
    before = by_type(bundle(provider, mdm.Vendor.JAMF))
    again = by_type(bundle(replace(provider), mdm.Vendor.JAMF))
    moved = by_type(
        bundle(
            replace(provider, imap=replace(provider.imap, host="mail.example.org")), mdm.Vendor.JAMF
        )
    )
    for kind in (ddm.MAIL, ddm.IDENTITY, ddm.CREDENTIAL):
        assert before[kind]["ServerToken"] == again[kind]["ServerToken"]
    assert before[ddm.MAIL]["ServerToken"] != moved[ddm.MAIL]["ServerToken"]
    assert before[ddm.IDENTITY]["ServerToken"] == moved[ddm.IDENTITY]["ServerToken"]


def test_calendar_and_contacts_follow_when_declared(service: Service) -> None:
    provider = service.catalog.lookup("example.org")
    assert provider.caldav is not None
    assert provider.carddav is not None
    declarations = by_type(bundle(provider, mdm.Vendor.JAMF))
    credential = declarations[ddm.CREDENTIAL]["Identifier"]
    for kind, server in ((ddm.CALDAV, provider.caldav), (ddm.CARDDAV, provider.carddav)):
        payload = declarations[kind]["Payload"]
        assert (payload["HostName"], payload["Port"], payload["Path"]) == (
            server.host,
            server.port,
            server.path,
        )
        assert payload["AuthenticationCredentialsAssetReference"] == credential
    bare = by_type(bundle(replace(provider, caldav=None, carddav=None), mdm.Vendor.JAMF))
    assert set(bare) == {ddm.IDENTITY, ddm.CREDENTIAL, ddm.MAIL}
