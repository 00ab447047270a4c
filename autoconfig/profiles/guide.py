"""Read a profile's optional ``[guide]`` table: the provider's own processes, for the help site.

These are not client settings: who gets an account and who creates it, how the first sign-in works,
the password self-service and its labels, whom to contact about a deleted account, the help desk,
dated notices and a general note on maintenance. The help site shows each fact only when the
profile declares it. Validation is as strict as
the rest of the profile (unknown keys, wrong types and bad values are problems), and every problem
is collected by the caller's reader.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from autoconfig import address
from autoconfig.errors import AddressError
from autoconfig.model import (
    DeletedAccount,
    Feature,
    FirstLogin,
    FirstLoginRoute,
    Guide,
    Helpdesk,
    Localized,
    Notice,
    PasswordReset,
    ResetOption,
)
from autoconfig.profiles.reader import MISSING, Reader

MAX_TEXT = 200
"""Longest phrase a guide text may be (they are inserted into sentences)."""
MAX_LABEL = 80
"""Longest label of a button or menu entry."""
MAX_MENU = 5
MAX_CODE_NAME = 40
"""Longest name of a personal code (``guide.first_login.route.code``)."""
MAX_NOTICES = 20
_PHONE = re.compile(r"\+?[0-9](?: ?[0-9]){2,19}")
"""Digits, single spaces between them, an optional leading ``+``: 3 to 20 digits."""
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
    contact = table.localized("contact", MAX_TEXT, languages)
    if table.has("numen"):
        table.problem(
            "numen",
            "is no longer read (expected a [guide.first_login.route] table with code and "
            'sign_in_with, e.g. code.fr = "NUMEN"; see profiles/example.toml)',
        )
    route = None
    route_table = table.table("route", required=False)
    if route_table is not None:
        code = route_table.localized("code", MAX_CODE_NAME, languages)
        sign_in_with = route_table.localized("sign_in_with", MAX_TEXT, languages)
        route_table.finish()
        route = FirstLoginRoute(code, sign_in_with) if code and sign_in_with else None
    table.finish()
    if notified is None or contact is None:
        return None
    return FirstLogin(notified, contact, route)


def _option_labels(
    table: Reader, options: tuple[ResetOption, ...], languages: tuple[str, ...] | None
) -> tuple[tuple[ResetOption, Localized], ...]:
    labels = table.table("labels", required=False)
    if labels is None:
        return ()
    result: list[tuple[ResetOption, Localized]] = []
    for option in ResetOption:
        if labels.has(option.value):
            if options and option not in options:
                labels.problem(option.value, "labels an option not listed in options")
            text = labels.localized(option.value, MAX_TEXT, languages)
            if text is not None:
                result.append((option, text))
    labels.finish()
    return tuple(result)


def _password(
    top: Reader, login_portal: str | None, languages: tuple[str, ...] | None
) -> PasswordReset | None:
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
    labels = _option_labels(table, options, languages)
    table.finish()
    if portal is None or menu is None or not options or button is None or code_length is None:
        return None
    return PasswordReset(portal, menu, options, button, code_length, bool(recovers_login), labels)


def _deleted_account(top: Reader, languages: tuple[str, ...] | None) -> DeletedAccount | None:
    table = top.table("deleted_account", required=False)
    if table is None:
        return None
    contact = table.localized("contact", MAX_TEXT, languages)
    letter = table.flag("letter")
    offices = _text(table, "offices", languages)
    letter_with = _text(table, "letter_with", languages)
    if letter_with is not None and not letter:
        table.problem("letter_with", "is only used with letter = true")
    table.finish()
    if contact is None:
        return None
    return DeletedAccount(contact, bool(letter), offices, letter_with)


def _phone(text: str) -> str | None:
    text = text.strip()
    return text if _PHONE.fullmatch(text) else None


def _email(text: str) -> str | None:
    try:
        return str(address.parse(text))
    except AddressError:
        return None


def _helpdesk(top: Reader, languages: tuple[str, ...] | None) -> Helpdesk | None:
    table = top.table("helpdesk", required=False)
    if table is None:
        return None
    before = len(table.problems)
    phone = table.checked(
        "phone",
        _phone,
        "a phone number (expected digits, spaces and a leading +, e.g. +33 4 12 34 56 78)",
        required=False,
    )
    hours = _text(table, "hours", languages)
    url = table.url("url", required=False)
    email = table.checked(
        "email", _email, "an e-mail address (expected e.g. assistance@example.org)", False
    )
    table.finish()
    if len(table.problems) > before:
        return None
    if phone is None and url is None and email is None:
        table.problem("", "gives no way to reach the help desk (expected phone, url or email)")
        return None
    return Helpdesk(phone, hours, url, email)


def _date(table: Reader, key: str) -> datetime.date | None:
    value = table.raw(key, True)
    if value is MISSING:
        return None
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        table.problem(key, f"{value!r} is not a date (expected e.g. {key} = 2026-03-01)")
        return None
    return value


def _notices(top: Reader, languages: tuple[str, ...] | None) -> tuple[Notice, ...]:
    value: Any = top.raw("notice", required=False)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or not value:
        top.problem("notice", f"{value!r} is not a list of tables (expected [[guide.notice]])")
        return ()
    if len(value) > MAX_NOTICES:
        top.problem("notice", f"has {len(value)} entries (expected at most {MAX_NOTICES})")
        return ()
    result: list[Notice] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            top.problem(f"notice[{i}]", f"{item!r} is not a table (expected [[guide.notice]])")
            continue
        table = Reader(top.source, item, top.path(f"notice[{i}]"), top.problems)
        start = _date(table, "from")
        end = _date(table, "until")
        text = table.localized("text", MAX_TEXT, languages)
        table.finish()
        if start is not None and end is not None and end < start:
            table.problem("until", f"{end} is before from = {start} (expected a later date)")
            continue
        if start is not None and end is not None and text is not None:
            result.append(Notice(start, end, text))
    return tuple(result)


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
    login_field = _label(table, "webmail_login_field")
    password_field = _label(table, "webmail_password_field")
    accepts_address = table.flag("webmail_accepts_address")
    one_time_code = table.flag("one_time_code")
    maintenance = _text(table, "maintenance", languages)
    first_login = _first_login(table, languages)
    password = _password(table, login_portal, languages)
    deleted = _deleted_account(table, languages)
    helpdesk = _helpdesk(table, languages)
    notices = _notices(table, languages)
    table.finish()
    guide = Guide(
        audience=audience,
        creator=creator,
        address_format=address_format,
        services=services,
        webmail_button=webmail_button,
        webmail_login_field=login_field,
        webmail_password_field=password_field,
        webmail_accepts_address=bool(accepts_address),
        one_time_code=bool(one_time_code),
        maintenance=maintenance,
        first_login=first_login,
        password=password,
        deleted_account=deleted,
        helpdesk=helpdesk,
        notices=notices,
    )
    return len(top.problems) == before, guide
