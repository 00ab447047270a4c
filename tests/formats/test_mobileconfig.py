from __future__ import annotations

import plistlib
import re
from dataclasses import replace
from typing import Any

import pytest

from autoconfig.address import parse
from autoconfig.formats import mdm, mobileconfig
from autoconfig.model import Account, Certainty, DavServer, Found, Provider, Security
from autoconfig.service import Service
from tests import apple_schema
from tests.conftest import each_profile, profile_id
from tests.fakes import account as make_account
from tests.formats.test_thunderbird import RULE
from tests.golden import Golden

MARKUP_NAME = 'Gaëlle L\'Héritier & "Co" <x>'
PASSWORD_KEYS = {"IncomingPassword", "OutgoingPassword", "CalDAVPassword", "CardDAVPassword"}
USERNAME_KEYS = {
    "com.apple.mail.managed": ("IncomingMailServerUsername", "OutgoingMailServerUsername"),
    "com.apple.caldav.account": ("CalDAVUsername",),
    "com.apple.carddav.account": ("CardDAVUsername",),
}

# (case, address (None: generic), login found in the directory (None: unknown), name, DAV servers)
# DAV: "profile" as the profile declares them, "none" removed, "added" a test server added.
CASES = [
    ("known", "prenom.nom@{domain}", "jdoe42", "Prénom Nom", "profile"),
    ("known-markup", "prenom.nom@{domain}", "j<&'\">", MARKUP_NAME, "profile"),
    ("unknown", "prenom.nom@{domain}", None, None, "profile"),
    ("certain", "prenom.nom@{domain}", RULE, None, "profile"),
    ("generic", None, None, None, "profile"),
    ("known-nodav", "prenom.nom@{domain}", "jdoe42", "Prénom Nom", "none"),
    ("known-dav", "prenom.nom@{domain}", "jdoe42", "Prénom Nom", "added"),
]


def with_dav(provider: Provider, dav: str) -> Provider:
    if dav == "none":
        return replace(provider, caldav=None, carddav=None)
    if dav == "added":
        host = f"dav.{provider.domains[0]}"
        return replace(
            provider,
            caldav=DavServer(f"https://{host}:8443/cal/", host, 8443, "/cal/"),
            carddav=DavServer(f"https://{host}/card/", host, 443, "/card/"),
        )
    return provider


def account_for(
    provider: Provider, address: str | None, login: str | None, name: str | None
) -> Account:
    if address is None:
        return make_account(None, provider.login.template, Found.FALLBACK)
    parsed = parse(address.format(domain=provider.domains[0]))
    if login == RULE:
        return make_account(
            parsed, provider.login.expand(parsed), Found.FALLBACK, certainty=Certainty.CERTAIN
        )
    if login is not None:
        return make_account(parsed, login, Found.DIRECTORY, name)
    return make_account(parsed, provider.login.expand(parsed), Found.FALLBACK)


def rendered_cases(service: Service) -> list[tuple[str, Provider, Account, bytes]]:
    """Every profile × case: (golden name, provider, account, body)."""
    result = []
    for provider in service.catalog:
        stem = provider.source.rsplit("/", 1)[-1].removesuffix(".toml")
        for case, address, login, name, dav in CASES:
            variant = with_dav(provider, dav)
            account = account_for(variant, address, login, name)
            body = mobileconfig.render(variant, account).body
            result.append((f"{stem}/mobileconfig-{case}.plist", variant, account, body))
    return result


def payloads(body: bytes) -> dict[str, dict[str, Any]]:
    profile = plistlib.loads(body)
    return {p["PayloadType"]: p for p in profile["PayloadContent"]}


@each_profile
@pytest.mark.parametrize(
    ("case", "address", "login", "name", "dav"), CASES, ids=[c[0] for c in CASES]
)
def test_golden(
    golden: Golden,
    provider: Provider,
    case: str,
    address: str | None,
    login: str | None,
    name: str | None,
    dav: str,
) -> None:
    variant = with_dav(provider, dav)
    body = mobileconfig.render(variant, account_for(variant, address, login, name)).body
    golden(f"{profile_id(provider)}/mobileconfig-{case}.plist", body)


def test_every_profile_passes_apple_schemas(service: Service) -> None:
    for golden, _, _, body in rendered_cases(service):
        assert apple_schema.problems(plistlib.loads(body)) == [], golden


def test_never_a_password_key(service: Service) -> None:
    for golden, _, _, body in rendered_cases(service):
        for payload in plistlib.loads(body)["PayloadContent"]:
            assert not PASSWORD_KEYS & set(payload), golden
        assert b"Password</key>\n\t\t\t<string>" not in body, golden


def test_mail_payload_for_a_known_login(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = make_account(
        parse("pierre.dupont@ac-aix-marseille.fr"), "pdupont", Found.DIRECTORY, "Pierre Dupont"
    )
    mail = payloads(mobileconfig.render(provider, account).body)["com.apple.mail.managed"]
    assert {k: v for k, v in mail.items() if not k.startswith("Payload")} == {
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAccountDescription": "Académie",
        "EmailAccountName": "Pierre Dupont",
        "EmailAddress": "pierre.dupont@ac-aix-marseille.fr",
        "IncomingMailServerHostName": "imap.ac-aix-marseille.fr",
        "IncomingMailServerPortNumber": 993,
        "IncomingMailServerUseSSL": True,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerUsername": "pdupont",
        "OutgoingMailServerHostName": "smtp.ac-aix-marseille.fr",
        "OutgoingMailServerPortNumber": 465,
        "OutgoingMailServerUseSSL": True,
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerUsername": "pdupont",
        "OutgoingPasswordSameAsIncomingPassword": True,
    }


@pytest.mark.parametrize(
    ("found", "expected"),
    [(Found.DIRECTORY, "jdoe42"), (Found.TEMPLATE, "jdoe42"), (Found.FALLBACK, None)],
)
def test_usernames_only_when_the_login_is_known(
    service: Service, found: Found, expected: str | None
) -> None:
    provider = service.catalog.lookup("example.org")
    account = make_account(parse("prenom.nom@example.org"), "jdoe42", found)
    found_payloads = payloads(mobileconfig.render(provider, account).body)
    assert set(found_payloads) == set(USERNAME_KEYS)
    for kind, keys in USERNAME_KEYS.items():
        for key in keys:
            assert found_payloads[kind].get(key) == expected, (kind, key)


def test_generic_profile_has_no_address_and_no_username(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    mail = payloads(mobileconfig.render(provider, make_account(None, "x", Found.FALLBACK)).body)[
        "com.apple.mail.managed"
    ]
    assert "EmailAddress" not in mail
    assert "IncomingMailServerUsername" not in mail
    assert "EmailAccountName" not in mail


def test_markup_and_accents_survive(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = make_account(
        parse("gaelle.lheritier@ac-aix-marseille.fr"), "g<l>&'\"", Found.DIRECTORY, MARKUP_NAME
    )
    body = mobileconfig.render(provider, account).body
    assert 'Gaëlle L\'Héritier &amp; "Co" &lt;x&gt;'.encode() in body
    assert b"<x>" not in body
    mail = payloads(body)["com.apple.mail.managed"]
    assert mail["EmailAccountName"] == MARKUP_NAME
    assert mail["IncomingMailServerUsername"] == "g<l>&'\""
    assert plistlib.loads(body)["PayloadOrganization"] == "Académie d'Aix-Marseille"


def test_same_request_same_bytes_and_identity(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    first = mobileconfig.render(provider, account_for(provider, "Prenom.Nom@{domain}", "a1", None))
    again = mobileconfig.render(provider, account_for(provider, "Prenom.Nom@{domain}", "a1", None))
    assert first.body == again.body


@pytest.mark.parametrize(
    ("other", "same_identifier"),
    [
        ("PRENOM.NOM@AC-AIX-MARSEILLE.FR", True),  # the same address, other spelling
        ("prenom.nom2@ac-aix-marseille.fr", False),
    ],
)
def test_identifier_is_stable_per_address(
    service: Service, other: str, same_identifier: bool
) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    base = plistlib.loads(
        mobileconfig.render(provider, account_for(provider, "prenom.nom@{domain}", "a1", None)).body
    )
    changed = plistlib.loads(
        mobileconfig.render(provider, account_for(provider, other, "a1", None)).body
    )
    assert (base["PayloadIdentifier"] == changed["PayloadIdentifier"]) is same_identifier
    assert re.fullmatch(
        r"fr\.ac-aix-marseille\.autoconfig\.[0-9a-f]{16}", base["PayloadIdentifier"]
    )


def test_uuids_change_when_the_settings_change(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = account_for(provider, "prenom.nom@{domain}", "a1", None)
    moved = replace(provider, imap=replace(provider.imap, host="imap2.ac-aix-marseille.fr"))
    before = plistlib.loads(mobileconfig.render(provider, account).body)
    after = plistlib.loads(mobileconfig.render(moved, account).body)
    assert before["PayloadIdentifier"] == after["PayloadIdentifier"]
    assert before["PayloadUUID"] != after["PayloadUUID"]
    assert before["PayloadContent"][0]["PayloadUUID"] != after["PayloadContent"][0]["PayloadUUID"]


def test_starttls_server_is_not_implicit_ssl(service: Service) -> None:
    provider = service.catalog.lookup("example.org")
    starttls = replace(provider, smtp=replace(provider.smtp, port=587, security=Security.STARTTLS))
    mail = payloads(mobileconfig.render(starttls, make_account(None, "x", Found.FALLBACK)).body)[
        "com.apple.mail.managed"
    ]
    assert (mail["OutgoingMailServerPortNumber"], mail["OutgoingMailServerUseSSL"]) == (587, False)
    assert mail["IncomingMailServerUseSSL"] is True


def test_dav_payloads_carry_host_port_and_url(service: Service) -> None:
    provider = with_dav(service.catalog.lookup("ac-aix-marseille.fr"), "added")
    found = payloads(
        mobileconfig.render(provider, account_for(provider, "a.b@{domain}", "ab1", None)).body
    )
    caldav, carddav = found["com.apple.caldav.account"], found["com.apple.carddav.account"]
    assert (caldav["CalDAVHostName"], caldav["CalDAVPort"], caldav["CalDAVUseSSL"]) == (
        "dav.ac-aix-marseille.fr",
        8443,
        True,
    )
    assert caldav["CalDAVPrincipalURL"] == "https://dav.ac-aix-marseille.fr:8443/cal/"
    assert (carddav["CardDAVHostName"], carddav["CardDAVPort"]) == ("dav.ac-aix-marseille.fr", 443)
    assert caldav["CalDAVUsername"] == carddav["CardDAVUsername"] == "ab1"


@pytest.mark.parametrize(
    ("lang", "mail_name"),
    [("fr", "Compte de messagerie"), ("en", "Mail account"), ("de", "Mail account")],
)
def test_texts_follow_the_default_language(service: Service, lang: str, mail_name: str) -> None:
    provider = service.catalog.lookup("example.org")
    first = replace(provider.name, texts=((lang, "Name"),))
    localized = replace(provider, name=first)
    body = mobileconfig.render(localized, make_account(None, "x", Found.FALLBACK)).body
    assert payloads(body)["com.apple.mail.managed"]["PayloadDisplayName"] == mail_name


def test_file_name_is_safe_ascii(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    assert mobileconfig.filename(provider) == "ac-aix-marseille.fr.mobileconfig"
    assert mobileconfig.filename(replace(provider, id='a"b;c.fr')) == "a-b-c.fr.mobileconfig"


# The validator itself: each broken profile must be caught, with the reason.
def _break(change: str) -> Any:
    def apply(profile: dict[str, Any]) -> None:
        mail = profile["PayloadContent"][0]
        if change == "unknown key":
            mail["IncomingMailServerPort"] = 993
        elif change == "wrong type":
            mail["IncomingMailServerPortNumber"] = "993"
        elif change == "bool as int":
            mail["IncomingMailServerPortNumber"] = True
        elif change == "missing required":
            del mail["IncomingMailServerHostName"]
        elif change == "outside rangelist":
            mail["EmailAccountType"] = "EmailTypeExchange"
        elif change == "bad uuid":
            mail["PayloadUUID"] = "not-a-uuid"
        elif change == "duplicate uuid":
            mail["PayloadUUID"] = profile["PayloadUUID"]
        elif change == "duplicate identifier":
            profile["PayloadContent"].append(
                dict(mail, PayloadUUID="00000000-0000-0000-0000-000000000000")
            )
        elif change == "foreign identifier":
            mail["PayloadIdentifier"] = "com.example.other"
        elif change == "unknown payload type":
            mail["PayloadType"] = "com.apple.wifi.managed"
        elif change == "bad top-level version":
            profile["PayloadVersion"] = 2

    return apply


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown key", "'IncomingMailServerPort' is not a key"),
        ("wrong type", "is a str (expected <integer>)"),
        ("bool as int", "is a bool (expected <integer>)"),
        ("missing required", "required key 'IncomingMailServerHostName' is missing"),
        ("outside rangelist", "'EmailTypeExchange' is not allowed"),
        ("bad uuid", "'not-a-uuid' is not a UUID"),
        ("duplicate uuid", "PayloadUUID values are not unique"),
        ("duplicate identifier", "PayloadIdentifier values are not unique"),
        ("foreign identifier", "does not extend the profile's"),
        ("unknown payload type", "has no schema here"),
        ("bad top-level version", "profile.PayloadVersion: 2 is not allowed"),
    ],
)
def test_validator_catches_broken_profiles(service: Service, change: str, message: str) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    profile = plistlib.loads(
        mobileconfig.render(provider, account_for(provider, "a@{domain}", "a", None)).body
    )
    assert apple_schema.problems(profile) == []
    _break(change)(profile)
    found = apple_schema.problems(profile)
    assert any(message in problem for problem in found), found


# Templates for MDMs that push classic profiles (render mobileconfig --mdm).
VENDORS = list(mdm.Vendor)


@each_profile
@pytest.mark.parametrize("vendor", VENDORS)
def test_mdm_template_golden(golden: Golden, provider: Provider, vendor: mdm.Vendor) -> None:
    body = mobileconfig.mdm_template(provider, vendor).body
    golden(f"{profile_id(provider)}/mobileconfig-mdm-{vendor}.plist", body)


@each_profile
@pytest.mark.parametrize("vendor", VENDORS)
def test_mdm_template_passes_apple_schemas(provider: Provider, vendor: mdm.Vendor) -> None:
    for variant in (provider, replace(provider, caldav=None, carddav=None)):
        profile = plistlib.loads(mobileconfig.mdm_template(variant, vendor).body)
        assert apple_schema.problems(profile) == []


@pytest.mark.parametrize("vendor", VENDORS)
def test_mdm_template_carries_the_variables_and_nothing_personal(
    service: Service, vendor: mdm.Vendor
) -> None:
    variables = mdm.VARIABLES[vendor]
    for provider in service.catalog:
        profile = plistlib.loads(mobileconfig.mdm_template(provider, vendor).body)
        mail, *dav = profile["PayloadContent"]
        assert mail["EmailAddress"] == variables.address
        login = mdm.person(provider, vendor).login
        for payload in profile["PayloadContent"]:
            for key in USERNAME_KEYS[payload["PayloadType"]]:
                assert payload[key] == login
            assert not PASSWORD_KEYS & set(payload)
        assert mail.get("EmailAccountName") == variables.name
        assert profile["PayloadIdentifier"].endswith(".autoconfig.mdm")
        assert "@" not in profile["PayloadDescription"]
        assert len(dav) == (provider.caldav is not None) + (provider.carddav is not None)


@pytest.mark.parametrize(
    ("domain", "vendor", "login"),
    [
        ("ac-aix-marseille.fr", mdm.Vendor.JAMF, "$USERNAME"),  # the academic ID: the MDM's user
        # Intune: the on-premises directory's account name, not the UPN (which looks like an
        # address, wrong exactly where the login is not the address)
        ("ac-aix-marseille.fr", mdm.Vendor.INTUNE, "{{OnPremisesSamAccountName}}"),
        ("ac-aix-marseille.fr", mdm.Vendor.WORKSPACE_ONE, "{EnrollmentUser}"),
        ("example.org", mdm.Vendor.JAMF, "$EMAIL"),  # template %EMAILADDRESS%: the address
        ("example.org", mdm.Vendor.INTUNE, "{{mail}}"),
    ],
)
def test_mdm_login_follows_the_profile_rule(
    service: Service, domain: str, vendor: mdm.Vendor, login: str
) -> None:
    assert mdm.person(service.catalog.lookup(domain), vendor).login == login


@pytest.mark.parametrize("vendor", VENDORS)
def test_mdm_login_is_the_address_where_the_servers_accept_it(
    service: Service, vendor: mdm.Vendor
) -> None:
    """``login.address_accepted``: the address, which every MDM knows, rather than a user
    attribute that must hold the login."""
    academie = service.catalog.lookup("ac-aix-marseille.fr")
    accepted = replace(academie, login=replace(academie.login, address_accepted=True))
    assert mdm.person(accepted, vendor).login == mdm.VARIABLES[vendor].address
    assert mdm.person(academie, vendor).login == mdm.VARIABLES[vendor].user
