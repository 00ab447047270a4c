"""Parse and normalise e-mail addresses and domain names.

The domain is case-folded and IDNA-encoded (UTS #46), so ``Prenom.Nom@AC-Aix-Marseille.FR`` and an
address written with a Unicode domain find their provider. Limits follow RFC 5321 §4.5.3.1: 64 octets
for the local part, 255 for the domain (253 in practice, without the trailing dot), 254 for the path.
Anything else is refused with an :class:`~autoconfig.errors.AddressError` that says why.

Non-ASCII local parts (RFC 6531/6532) are put in NFC. Characters nobody can see or that stand for
another one are refused (IDNA 2008 and the PRECIS identifier class, RFC 8264, refuse them too):
controls and format characters (bidi overrides, zero-width spaces and joiners, every
Default_Ignorable_Code_Point), unassigned code points and noncharacters (``U+FFFF``), surrogates,
private use, spaces other than ASCII, and other ways of writing a character (compatibility and
singleton forms: ``ſ`` for ``s``, the Kelvin sign for ``K``, fullwidth letters, ligatures).

:attr:`Address.key` is the one canonical form of an address: the local part with its ASCII letters
lower-cased and nothing else changed, and the A-label domain. It is what LDAP's ``mail`` attribute
compares (caseIgnoreIA5Match: ASCII letters without case), and it is the one string the cache, the
per-client limit, the tables and the LDAP filter all use: two spellings share a key only when the
directory is asked the very same thing for both, so an odd spelling can never leave an answer
under someone else's key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import idna

from autoconfig.errors import AddressError

MAX_INPUT = 1024
"""Longer input is refused before any other work is done on it."""
MAX_ADDRESS = 254
MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_LABEL = 63

# RFC 5322 atext plus the dot; quoted local parts are not accepted (no mail client sends them here).
_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\u0080-\U0010FFFF]+")
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_CONTROL_RE = re.compile(r"[\x00-\x20\x7f-\x9f\ufffd]")
# The common case, checked in one pass: an ASCII dot-atom before the '@', LDH labels after it.
_ATOM = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+"
_SIMPLE_RE = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@([A-Za-z0-9.-]+)")
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp", "Zs"})
"""Controls, format characters (bidi controls, zero-width characters), unassigned code points and
noncharacters, private use, surrogates, and the line, paragraph and space separators."""
_IGNORABLE_RE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)
"""The Default_Ignorable_Code_Points outside :data:`INVISIBLE_CATEGORIES` (Unicode's
DerivedCoreProperties): fillers, the combining grapheme joiner and the variation selectors."""


@dataclass(frozen=True, slots=True)
class Address:
    """A valid address: the local part as typed, the domain as a lower-case A-label."""

    local: str
    domain: str

    @property
    def key(self) -> str:
        """The canonical form (see the module): ASCII letters lower-cased, nothing else changed.
        The directory, the cache and the per-client limit all use it, and only it."""
        return f"{self.local.translate(_ASCII_UPPER)}@{self.domain}"

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


def parse(text: str) -> Address:
    """Parse ``text`` into an :class:`Address`, or raise :class:`AddressError` saying what is wrong."""
    if len(text) > MAX_INPUT:
        raise AddressError(
            f"address is {len(text)} characters long (expected at most {MAX_ADDRESS})"
        )
    text = text.strip()
    simple = _SIMPLE_RE.fullmatch(text)
    if simple:
        local, domain_text = simple.groups()
    else:
        local, domain_text = _split(text)
        if not local.isascii():
            local = _unicode_local(local)
    if len(local.encode()) > MAX_LOCAL:
        raise AddressError(
            f"the part before the '@' is {len(local.encode())} bytes long (expected at most {MAX_LOCAL})"
        )
    domain = normalise_domain(domain_text)
    if len(local.encode()) + 1 + len(domain) > MAX_ADDRESS:
        raise AddressError(f"address is longer than {MAX_ADDRESS} characters")
    return Address(local, domain)


def _split(text: str) -> tuple[str, str]:
    """The local part and domain of an address outside the common case, or AddressError."""
    if not text:
        raise AddressError("address is empty (expected name@domain)")
    if _CONTROL_RE.search(text):
        raise AddressError("address contains spaces, control characters or invalid bytes")
    if not text.isascii():
        _refuse_invisible(text)
    if text.count("@") != 1:
        raise AddressError(
            f"address has {text.count('@')} '@' signs (expected exactly one, as in name@domain)"
        )
    local, _, domain_text = text.partition("@")
    if not local:
        raise AddressError("address has nothing before the '@' (expected name@domain)")
    if (
        not _LOCAL_RE.fullmatch(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise AddressError(
            "the part before the '@' contains characters an address cannot hold "
            "(expected letters, digits, dots and !#$%&'*+-/=?^_`{|}~)"
        )
    return local, domain_text


def _refuse_invisible(text: str) -> None:
    """AddressError naming the first character of ``text`` nobody can see or no one may use."""
    for char in text:
        if _invisible(char):
            raise AddressError(
                f"address contains {_describe(char)}, an invisible, reserved or format character "
                "(bidi controls, zero-width characters and noncharacters are refused)"
            )


def visible(text: str) -> str:
    """``text`` with each character an address may not hold because nobody can see it (controls,
    bidi and zero-width characters, noncharacters) shown as U+FFFD: typed text echoed back (the
    setup form) then shows where the problem is, and cannot reorder or hide what surrounds it."""
    return "".join(
        "\ufffd" if _invisible(char) or (char.isascii() and not char.isprintable()) else char
        for char in text
    )


def _invisible(char: str) -> bool:
    return not char.isascii() and (
        unicodedata.category(char) in INVISIBLE_CATEGORIES or _IGNORABLE_RE.match(char) is not None
    )


def _unicode_local(local: str) -> str:
    """A non-ASCII local part in NFC, or AddressError when it holds another way of writing a
    character (``ſ`` for ``s``, the Kelvin sign for ``K``, a fullwidth letter): such a spelling
    would be a second address for someone, or pass for theirs."""
    for char in local:
        plain = unicodedata.normalize("NFKC", char)
        if not char.isascii() and plain != char:
            raise AddressError(
                f"the part before the '@' contains {_describe(char)}, another way of writing "
                f"{plain!r} (expected the plain character)"
            )
    return unicodedata.normalize("NFC", local)


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"


def normalise_domain(text: str) -> str:
    """Return ``text`` as a lower-case ASCII domain name (A-labels), or raise :class:`AddressError`."""
    return _normalise_domain(text.strip())


@lru_cache(maxsize=4096)
def _normalise_domain(text: str) -> str:
    if not text:
        raise AddressError("domain is empty (expected a name such as example.org)")
    if len(text) > MAX_INPUT:
        raise AddressError(f"domain is {len(text)} characters long (expected at most {MAX_DOMAIN})")
    if text.endswith("."):
        text = text[:-1]
    if text.isascii():
        domain = text.lower()
    else:
        try:
            domain = idna.encode(text, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise AddressError(
                f"domain {text!r} is not a valid internationalised name (IDNA 2008, UTS #46)"
            ) from exc
    if len(domain) > MAX_DOMAIN:
        raise AddressError(
            f"domain is {len(domain)} characters long (expected at most {MAX_DOMAIN})"
        )
    labels = domain.split(".")
    if len(labels) < 2:
        raise AddressError(
            f"domain {domain!r} has a single label (expected a name such as example.org)"
        )
    for label in labels:
        if len(label) > MAX_LABEL or not _LABEL_RE.fullmatch(label):
            raise AddressError(
                f"domain {domain!r} is not a valid host name "
                "(expected labels of letters, digits and inner hyphens, 1-63 characters each)"
            )
    if labels[-1].isdigit():
        raise AddressError(f"domain {domain!r} looks like an IP address (expected a name)")
    return domain


def is_hostname(text: str) -> bool:
    """True when ``text`` is already a valid lower-case ASCII host name with at least two labels."""
    try:
        return normalise_domain(text) == text
    except AddressError:
        return False
