"""One directory entry, validated where it is read."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACE = re.compile(r"\s")
MAX_LOGIN = 256
MAX_NAME = 256


@dataclass(frozen=True, slots=True)
class Entry:
    """What a directory knows about one address."""

    login: str
    name: str | None = None


def check_login(value: str) -> str | None:
    """A reason ``value`` cannot be a login ID, or ``None`` when it can."""
    if not value:
        return "login is empty"
    if len(value) > MAX_LOGIN:
        return f"login is {len(value)} characters long (expected at most {MAX_LOGIN})"
    if not value.isprintable() or _SPACE.search(value):
        return "login contains spaces or control characters"
    return None


def check_name(value: str) -> str | None:
    """A reason ``value`` cannot be a display name, or ``None`` when it can."""
    if len(value) > MAX_NAME:
        return f"name is {len(value)} characters long (expected at most {MAX_NAME})"
    if not value.isprintable():
        return "name contains control characters"
    return None
