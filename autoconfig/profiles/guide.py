"""Read a profile's optional ``[guide]`` table: the provider's own processes, for the help site.

These are not client settings: who gets an account and who creates it, how the first sign-in works,
the password self-service and its labels, whom to contact about a deleted account, a maintenance
notice. The help site shows each fact only when the profile declares it. Validation is as strict as
the rest of the profile (unknown keys, wrong types and bad values are problems), and every problem
is collected by the caller's reader.
"""

from __future__ import annotations

import re

from autoconfig.model import (
    DeletedAccount,
    Feature,
    FirstLogin,
    Guide,
    Localized,
    PasswordReset,
    ResetOption,
)
from autoconfig.profiles.reader import Reader

MAX_TEXT = 200
"""Longest phrase a guide text may be (they are inserted into sentences)."""
MAX_LABEL = 80
"""Longest label of a button or menu entry."""
MAX_MENU = 5
_ADDRESS_FORMAT = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


def _text(table: Reader, key: str, languages: tuple[str, ...] | None) -> Localized | None:
    if not table.has(key):
        return None
    return table.localized(key, MAX_TEXT, languages)


def _label(table: Reader, key: str, required: bool = False) -> str | None:
    return table.checked(key, _short_label, f"a label of at most {MAX_LABEL} characters", required)


def _short_label(text: str) -> str | None:
    text = text.strip()
    return text if text.isprintable() and len(text) <= MAX_LABEL else None


def _first_login(top: Reader, languages: tuple[str, ...] | None) -> FirstLogin | None:
    table = top.table("first_login", required=False)
    if table is None:
        return None
    notified = table.localized("notified", MAX_TEXT, languages)
    numen = table.flag("numen")
    contact = table.localized("contact", MAX_TEXT, languages)
    table.finish()
    if notified is None or contact is None:
        return None
    return FirstLogin(notified, bool(numen), contact)


def _password(top: Reader, login_portal: str | None) -> PasswordReset | None:
    table = top.table("password", required=False)
    if table is None:
        return None
    portal = table.url("portal", required=False)
    if not table.has("portal"):
        portal = login_portal
        if portal is None:
            table.problem("portal", "is missing (required when webmail.login_portal is not set)")
    menu = table.strings(
        "menu", _short_label, f"a menu label of at most {MAX_LABEL} characters", required=True
    )
    if menu is not None and len(menu) > MAX_MENU:
        table.problem("menu", f"has {len(menu)} entries (expected at most {MAX_MENU})")
        menu = None
    options = table.choices("options", ResetOption, required=True)
    button = _label(table, "continue_button", required=True)
    code_length = table.integer("code_length", 4, 12)
    recovers_login = table.flag("recovers_login")
    table.finish()
    if portal is None or menu is None or not options or button is None or code_length is None:
        return None
    return PasswordReset(portal, menu, options, button, code_length, bool(recovers_login))


def _deleted_account(top: Reader, languages: tuple[str, ...] | None) -> DeletedAccount | None:
    table = top.table("deleted_account", required=False)
    if table is None:
        return None
    contact = table.localized("contact", MAX_TEXT, languages)
    letter = table.flag("letter")
    offices = _text(table, "offices", languages)
    table.finish()
    if contact is None:
        return None
    return DeletedAccount(contact, bool(letter), offices)


def parse(
    top: Reader, languages: tuple[str, ...] | None, login_portal: str | None = None
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
    services = table.choices("services", Feature)
    webmail_button = _label(table, "webmail_button")
    one_time_code = table.flag("one_time_code")
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
