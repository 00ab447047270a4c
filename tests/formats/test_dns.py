from __future__ import annotations

from dataclasses import replace
from pathlib import PurePath

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from autoconfig.formats import dns as dnsrender
from autoconfig.model import DnsPolicy, Provider, Security
from autoconfig.service import Service
from tests.conftest import each_profile, profile_id
from tests.golden import Golden


def providers(service: Service) -> list[Provider]:
    return list(service.catalog)


def stem(provider: Provider) -> str:
    return PurePath(provider.source).stem


@each_profile
def test_golden_zone(golden: Golden, provider: Provider) -> None:
    rendered = dnsrender.render(provider)
    assert rendered.media_type.startswith("text/plain")
    golden(f"{profile_id(provider)}/dns-profile.zone", rendered.body)


@each_profile
def test_golden_zone_with_cname_hosts_and_starttls(golden: Golden, provider: Provider) -> None:
    variant = replace(
        provider,
        imap=replace(provider.imap, port=143, security=Security.STARTTLS),
        smtp=replace(provider.smtp, port=587, security=Security.STARTTLS),
        dns=DnsPolicy(ttl=300, cname="front.example.com"),
    )
    golden(f"{profile_id(provider)}/dns-cname-starttls.zone", dnsrender.render(variant).body)


def test_every_record_parses_as_dns_data(service: Service) -> None:
    for provider in providers(service):
        for domain in provider.domains:
            for record in dnsrender.records(provider, domain):
                rdtype = dns.rdatatype.from_text(record.type)
                dns.rdata.from_text(dns.rdataclass.IN, rdtype, record.data)
                assert record.name.endswith(".")


@pytest.mark.parametrize(
    ("security", "imap_label", "smtp_label"),
    [
        (Security.TLS, "_imaps._tcp", "_submissions._tcp"),
        (Security.STARTTLS, "_imap._tcp", "_submission._tcp"),
    ],
)
def test_labels_follow_the_security_of_the_servers(
    service: Service, security: Security, imap_label: str, smtp_label: str
) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    variant = replace(
        provider,
        imap=replace(provider.imap, security=security),
        smtp=replace(provider.smtp, security=security),
    )
    names = {r.name for r in dnsrender.records(variant, "ac-aix-marseille.fr") if r.type == "SRV"}
    assert f"{imap_label}.ac-aix-marseille.fr." in names
    assert f"{smtp_label}.ac-aix-marseille.fr." in names


def test_absent_services_get_a_dot_target(service: Service) -> None:
    provider = service.catalog.lookup("example.org")
    markers = {
        r.name: r.data for r in dnsrender.records(provider, "example.org") if r.section == "absent"
    }
    assert markers == {f"_{label}._tcp.example.org.": "0 0 0 ." for label in provider.dns.absent}


def test_dav_records_only_when_the_profile_has_them(service: Service) -> None:
    academie = service.catalog.lookup("ac-aix-marseille.fr")
    assert not [r for r in dnsrender.records(academie, "ac-aix-marseille.fr") if r.section == "dav"]
    example = service.catalog.lookup("example.org")
    dav = {
        (r.name, r.type): r.data
        for r in dnsrender.records(example, "example.org")
        if r.section == "dav"
    }
    assert dav[("_caldavs._tcp.example.org.", "TXT")] == '"path=/caldav/"'
    assert dav[("_carddavs._tcp.example.org.", "SRV")] == "0 1 443 dav.example.org."
    assert dav[("_carddavs._tcp.dav.example.org.", "TXT")] == '"path=/carddav/"'


def test_txt_escapes_quotes_and_backslashes() -> None:
    assert dnsrender.txt('path=/a"b\\c/') == '"path=/a\\"b\\\\c/"'
