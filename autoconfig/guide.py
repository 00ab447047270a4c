"""Read a profile's optional ``[guide]`` table: the provider's own processes, for the help site.

These are not client settings: who gets an account and who creates it, how the first sign-in works,
the password self-service and its labels, whom to contact about a deleted account, a maintenance
notice. The help site shows each fact only when the profile declares it. Validation is as strict as
the rest of the profile (unknown keys, wrong types and bad values are problems), and every problem
is collected by the caller's reader.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from autoconfig.model import (
    DeletedAccount,
    Feature,
    FirstLogin,
    Guide,
    Localized,
    PasswordReset,
    ResetOption,
)

if TYPE_CHECKING:
    from autoconfig.profiles import _Reader

E = TypeVar("E", bound=StrEnum)

MAX_TEXT = 200
"""Longest phrase a guide text may be (they are inserted into sentences)."""
MAX_LABEL = 80
"""Longest label of a button or menu entry."""
MAX_MENU = 5
_ADDRESS_FORMAT = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


def _missing(table: _Reader, key: str) -> bool:
    table.seen.add(key)
    return key not in table.data


def _text(table: _Reader, key: str, languages: tuple[str, ...] | None) -> Localized | None:
    if _missing(table, key):
        return None
    return table.localized(key, MAX_TEXT, languages)


def _flag(table: _Reader, key: str) -> bool | None:
    if _missing(table, key):
        return None
    value = table.data[key]
    if not isinstance(value, bool):
        table.problem(key, f"{value!r} is not a boolean (expected true or false)")
        return None
    return value


def _label(table: _Reader, key: str, required: bool = False) -> str | None:
    return table.checked(key, _short_label, f"a label of at most {MAX_LABEL} characters", required)


def _short_label(text: str) -> str | None:
    text = text.strip()
    return text if text.isprintable() and len(text) <= MAX_LABEL else None


def _choices(table: _Reader, key: str, enum: type[E], required: bool = False) -> tuple[E, ...]:
    if _missing(table, key):
        if required:
            table.problem(key, "is missing (required)")
        return ()
    value = table.data[key]
    allowed = ", ".join(repr(m.value) for m in enum)
    if not isinstance(value, list) or not value:
        table.problem(key, f"{value!r} is not a non-empty list (expected values among {allowed})")
        return ()
    result: list[E] = []
    for i, item in enumerate(value):
        try:
            choice = enum(item)
        except ValueError:
            table.problem(f"{key}[{i}]", f"{item!r} is not allowed (expected one of {allowed})")
            continue
        if choice in result:
            table.problem(f"{key}[{i}]", f"{item!r} is listed twice (expected each value once)")
            continue
        result.append(choice)
    return tuple(result)


def _integer(table: _Reader, key: str, low: int, high: int) -> int | None:
    if _missing(table, key):
        table.problem(key, "is missing (required)")
        return None
    value = table.data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        table.problem(key, f"{value!r} is not a whole number from {low} to {high}")
        return None
    return value


def _first_login(top: _Reader, languages: tuple[str, ...] | None) -> FirstLogin | None:
    table = top.table("first_login", required=False)
    if table is None:
        return None
    notified = table.localized("notified", MAX_TEXT, languages)
    numen = _flag(table, "numen")
    contact = table.localized("contact", MAX_TEXT, languages)
    table.finish()
    if notified is None or contact is None:
        return None
    return FirstLogin(notified, bool(numen), contact)


def _password(top: _Reader, login_portal: str | None) -> PasswordReset | None:
    table = top.table("password", required=False)
    if table is None:
        return None
    portal = table.url("portal", required=False)
    if "portal" not in table.data:
        portal = login_portal
        if portal is None:
            table.problem("portal", "is missing (required when webmail.login_portal is not set)")
    menu = table.strings(
        "menu", _short_label, f"a menu label of at most {MAX_LABEL} characters", required=True
    )
    if menu is not None and len(menu) > MAX_MENU:
        table.problem("menu", f"has {len(menu)} entries (expected at most {MAX_MENU})")
        menu = None
    options = _choices(table, "options", ResetOption, required=True)
    button = _label(table, "continue_button", required=True)
    code_length = _integer(table, "code_length", 4, 12)
    recovers_login = _flag(table, "recovers_login")
    table.finish()
    if portal is None or menu is None or not options or button is None or code_length is None:
        return None
    return PasswordReset(portal, menu, options, button, code_length, bool(recovers_login))


def _deleted_account(top: _Reader, languages: tuple[str, ...] | None) -> DeletedAccount | None:
    table = top.table("deleted_account", required=False)
    if table is None:
        return None
    contact = table.localized("contact", MAX_TEXT, languages)
    letter = _flag(table, "letter")
    offices = _text(table, "offices", languages)
    table.finish()
    if contact is None:
        return None
    return DeletedAccount(contact, bool(letter), offices)


def parse(
    top: _Reader, languages: tuple[str, ...] | None, login_portal: str | None = None
) -> tuple[bool, Guide | None]:
    """Read ``[guide]`` from the profile's top-level reader. ``login_portal`` (the webmail's
    sign-in portal) is where the password self-service is when ``guide.password.portal`` is not set.

    Returns ``(ok, guide)``: ``ok`` is False when the table holds a problem (already recorded);
    ``guide`` is ``None`` when the profile has no ``[guide]`` table.
    """
    before = len(top.problems)
    table = top.table("guide", required=False)
    if table is None:
        return len(top.problems) == before, None
    audience = _text(table, "audience", languages)
    creator = _text(table, "creator", languages)
    address_format = table.checked(
        "address_format",
        lambda t: t if _ADDRESS_FORMAT.fullmatch(t) else None,
        "the shape of the part before the '@' (expected e.g. prenom.nom)",
        required=False,
    )
    services = _choices(table, "services", Feature)
    webmail_button = _label(table, "webmail_button")
    one_time_code = _flag(table, "one_time_code")
    maintenance = _text(table, "maintenance", languages)
    first_login = _first_login(table, languages)
    password = _password(table, login_portal)
    deleted = _deleted_account(table, languages)
    table.finish()
    guide = Guide(
        audience=audience,
        creator=creator,
        address_format=address_format,
        services=services,
        webmail_button=webmail_button,
        one_time_code=bool(one_time_code),
        maintenance=maintenance,
        first_login=first_login,
        password=password,
        deleted_account=deleted,
    )
    return len(top.problems) == before, guide
