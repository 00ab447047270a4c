from __future__ import annotations

import pytest

from autoconfig.address import MAX_INPUT, Address, is_hostname, normalise_domain, parse
from autoconfig.errors import AddressError

SPELLINGS = [
    ("pierre.dupont@ac-aix-marseille.fr", "pierre.dupont", "ac-aix-marseille.fr"),
    ("Pierre.Dupont@AC-Aix-Marseille.FR", "Pierre.Dupont", "ac-aix-marseille.fr"),
    ("  pierre.dupont@ac-aix-marseille.fr  ", "pierre.dupont", "ac-aix-marseille.fr"),
    ("pierre.dupont@ac-aix-marseille.fr.", "pierre.dupont", "ac-aix-marseille.fr"),
    ("o'neil&co+tag@example.org", "o'neil&co+tag", "example.org"),
    ("gaëlle@example.org", "gaëlle", "example.org"),
    ("prenom.nom@école.example", "prenom.nom", "xn--cole-9oa.example"),
    ("prenom.nom@ÉCOLE.example", "prenom.nom", "xn--cole-9oa.example"),
    ("x@xn--cole-9oa.example", "x", "xn--cole-9oa.example"),
    # RFC 6532 §3.1: a decomposed é is put in NFC, the form every other spelling of it has.
    ("gae\u0308lle@example.org", "gaëlle", "example.org"),
]


@pytest.mark.parametrize(("text", "local", "domain"), SPELLINGS)
def test_spellings_normalise(text: str, local: str, domain: str) -> None:
    assert parse(text) == Address(local, domain)


def test_key_is_casefolded_and_same_for_every_spelling() -> None:
    keys = {
        parse(t).key
        for t in ("Pierre.Dupont@AC-AIX-MARSEILLE.FR", "pierre.dupont@ac-aix-marseille.fr")
    }
    assert keys == {"pierre.dupont@ac-aix-marseille.fr"}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        # What LDAP's mail matching (caseIgnoreIA5Match) compares: ASCII letters without case,
        # every other character as it is. Unicode case folding would give "ss", "é", "i̇".
        ("Straße@X.fr", "straße@x.fr"),
        ("Élodie.Dupont@x.fr", "Élodie.dupont@x.fr"),
        ("İlker@x.fr", "İlker@x.fr"),
        ("e\u0301lodie@x.fr", "élodie@x.fr"),
    ],
)
def test_key_lowers_ascii_letters_only(text: str, key: str) -> None:
    assert parse(text).key == key


JUNK = [
    ("", "empty"),
    ("   ", "empty"),
    ("pierre.dupont", "0 '@'"),
    ("a@b@ac-aix-marseille.fr", "2 '@'"),
    ("@ac-aix-marseille.fr", "nothing before"),
    ("pierre@", "domain is empty"),
    ("pierre dupont@ac-aix-marseille.fr", "spaces"),
    ("pierre\r\n@ac-aix-marseille.fr", "control"),
    ("pierre\x00@ac-aix-marseille.fr", "control"),
    ("pier\ufffdre@ac-aix-marseille.fr", "invalid bytes"),
    ("<script>@ac-aix-marseille.fr", "characters"),
    ('"quoted"@ac-aix-marseille.fr', "characters"),
    (".pierre@ac-aix-marseille.fr", "characters"),
    ("pierre..dupont@ac-aix-marseille.fr", "characters"),
    ("pierre@localhost", "single label"),
    ("pierre@127.0.0.1", "IP address"),
    ("pierre@-bad-.fr", "not a valid host name"),
    ("pierre@bad_name.fr", "not a valid host name"),
    ("pierre@a..fr", "not a valid host name"),
    ("a" * 65 + "@ac-aix-marseille.fr", "bytes long"),
    ("a@" + "b" * 64 + ".fr", "not a valid host name"),
    ("a@" + ".".join(["abcdefghij"] * 25) + ".fr", "characters long"),
    ("x" * (MAX_INPUT + 1), "characters long"),
    ("x" * 10_000 + "@ac-aix-marseille.fr", "characters long"),
    # Invisible, reserved and format characters (IDNA 2008, RFC 6531, Default_Ignorable).
    ("pierre\u202e.dupont@ac-aix-marseille.fr", "U\\+202E RIGHT-TO-LEFT OVERRIDE"),
    ("pierre\u2066.dupont@ac-aix-marseille.fr", "U\\+2066"),
    ("pierre\u200b.dupont@ac-aix-marseille.fr", "U\\+200B ZERO WIDTH SPACE"),
    ("pierre\u200d.dupont@ac-aix-marseille.fr", "U\\+200D"),
    ("pierre\u00ad.dupont@ac-aix-marseille.fr", "U\\+00AD SOFT HYPHEN"),
    ("\ufeffpierre.dupont@ac-aix-marseille.fr", "U\\+FEFF"),
    ("pierre\u2060.dupont@ac-aix-marseille.fr", "U\\+2060 WORD JOINER"),
    ("pierre\u034f.dupont@ac-aix-marseille.fr", "U\\+034F"),
    ("pierre\ufe0f.dupont@ac-aix-marseille.fr", "U\\+FE0F"),
    ("pierre\u3164.dupont@ac-aix-marseille.fr", "U\\+3164"),
    ("pierre\U000e0041.dupont@ac-aix-marseille.fr", "U\\+E0041"),
    ("pierre\uffff@ac-aix-marseille.fr", "U\\+FFFF"),
    ("pierre\ufdd0@ac-aix-marseille.fr", "U\\+FDD0"),
    ("pierre\U0010ffff@ac-aix-marseille.fr", "U\\+10FFFF"),
    ("pierre\ue000@ac-aix-marseille.fr", "U\\+E000"),
    ("pierre\ud800@ac-aix-marseille.fr", "U\\+D800"),
    ("pierre\u00a0dupont@ac-aix-marseille.fr", "U\\+00A0"),
    ("pierre\u2028dupont@ac-aix-marseille.fr", "U\\+2028"),
    ("pierre@ac-aix\u200b-marseille.fr", "U\\+200B"),
    ("pierre@ac-aix-marseille\u00ad.fr", "U\\+00AD"),
    # Other ways of writing a character: a second spelling of someone's address.
    ("\u017fophie.bernard@ac-aix-marseille.fr", "U\\+017F .* writing 's'"),
    ("\u212aevin.kirk@ac-aix-marseille.fr", "U\\+212A KELVIN SIGN, .* writing 'K'"),
    ("\u212bsa@ac-aix-marseille.fr", "U\\+212B"),
    ("\uff50ierre@ac-aix-marseille.fr", "FULLWIDTH"),
    ("\ufb01n@ac-aix-marseille.fr", "LIGATURE FI"),
]


@pytest.mark.parametrize(("text", "reason"), JUNK)
def test_junk_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(AddressError, match=reason):
        parse(text)


def test_total_length_limit() -> None:
    local = "a" * 64
    domain = ".".join(["b" * 47] * 4) + ".fr"  # 194 characters: 64 + 1 + 194 > 254
    assert len(domain) == 194
    with pytest.raises(AddressError, match="longer than 254"):
        parse(f"{local}@{domain}")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("imap.example.org", True),
        ("IMAP.example.org", False),
        ("localhost", False),
        ("a_b.org", False),
    ],
)
def test_is_hostname(name: str, expected: bool) -> None:
    assert is_hostname(name) is expected


def test_normalise_domain_strips_trailing_dot_and_case() -> None:
    assert normalise_domain("AUTOCONFIG.Example.ORG.") == "autoconfig.example.org"


def test_visible_marks_what_nobody_can_see() -> None:
    from autoconfig.address import visible

    assert visible("a\u202eb\u200bc\uffff\x07d é") == "a\ufffdb\ufffdc\ufffd\ufffdd é"
