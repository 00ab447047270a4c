"""The table reader every section of a profile is read with, and the checks of its values.

A :class:`Reader` reads one TOML table, collecting every problem (file, key, value found, what was
expected) in a list shared by the whole load, so that ``autoconfig check`` lists them all at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

from autoconfig.address import is_hostname, normalise_domain
from autoconfig.errors import AddressError, Problem
from autoconfig.model import Localized

E = TypeVar("E", bound=StrEnum)

MISSING: Any = object()
"""What :meth:`Reader.raw` gives for a key the table does not hold."""


class Reader:
    """Reads one table of one file, remembering every problem instead of stopping at the first.

    Every key asked for is remembered, so :meth:`finish` can report the keys nobody asked for
    (typos must not be ignored silently). ``problems`` is shared by every reader of one load.
    """

    def __init__(self, source: str, data: Mapping[str, Any], prefix: str, problems: list[Problem]):
        self.source = source
        self._data = data
        self.prefix = prefix
        self.problems = problems
        self._seen: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.source, self.path(key) if key else self.prefix, message))

    def raw(self, key: str, required: bool) -> Any:
        self._seen.add(key)
        value = self._data.get(key, MISSING)
        if value is MISSING and required:
            self.problem(key, "is missing (required)")
        return value

    def table(self, key: str, required: bool = True) -> Reader | None:
        value = self.raw(key, required)
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.problem(key, f"{value!r} is not a table (expected [{self.path(key)}])")
            return None
        return Reader(self.source, value, self.path(key), self.problems)

    def string(self, key: str, required: bool = True) -> str | None:
        value = self.raw(key, required)
        if value is MISSING:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"{value!r} is not a non-empty string")
            return None
        return value

    def checked(
        self, key: str, check: Callable[[str], str | None], expected: str, required: bool = True
    ) -> str | None:
        value = self.string(key, required)
        if value is None:
            return None
        result = check(value)
        if result is None:
            self.problem(key, f"{value!r} is not {expected}")
        return result

    def hostname(self, key: str) -> str | None:
        return self.checked(key, host_name, "a host name (expected e.g. imap.example.org)")

    def url(self, key: str, required: bool = True) -> str | None:
        return self.checked(
            key, https_url_of, "an https URL (expected e.g. https://example.org/)", required
        )

    def port(self, key: str) -> int | None:
        value = self.raw(key, True)
        if value is MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            self.problem(key, f"{value!r} is not a valid port (expected 1-65535)")
            return None
        return value

    def choice(self, key: str, enum: type[E], default: E | None = None) -> E | None:
        """One value of ``enum``: required, unless a ``default`` is given for when it is absent."""
        value = self.raw(key, default is None)
        if value is MISSING:
            return default
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in enum)
            self.problem(key, f"{value!r} is not allowed (expected one of {allowed})")
            return None

    def localized(
        self, key: str, max_length: int, languages: tuple[str, ...] | None
    ) -> Localized | None:
        value = self.raw(key, True)
        if value is MISSING:
            return None
        if not isinstance(value, dict) or not value:
            self.problem(
                key, f'{value!r} is not a table of texts by language (expected {key}.fr = "…")'
            )
            return None
        texts: list[tuple[str, str]] = []
        for lang, text in value.items():
            where = f"{key}.{lang}"
            if not isinstance(text, str) or not text.strip():
                self.problem(where, f"{text!r} is not a non-empty string")
            elif len(text) > max_length:
                self.problem(
                    where,
                    f"{text!r} is {len(text)} characters long (expected at most {max_length})",
                )
            elif len(lang) != 2 or not lang.isalpha() or not lang.islower():
                self.problem(
                    where,
                    f"{lang!r} is not a language code (expected two lower-case letters, e.g. fr)",
                )
            else:
                texts.append((lang, text))
        if languages is not None and texts and tuple(c for c, _ in texts) != languages:
            self.problem(
                key,
                f"has languages {[c for c, _ in texts]} (expected {list(languages)}, "
                "in the same order as provider.name)",
            )
        return Localized(tuple(texts)) if len(texts) == len(value) else None

    def strings(
        self, key: str, check: Callable[[str], str | None], expected: str, required: bool = True
    ) -> tuple[str, ...] | None:
        value = self.raw(key, required)
        if value is MISSING:
            return None
        if not isinstance(value, list) or not value:
            self.problem(key, f"{value!r} is not a non-empty list")
            return None
        result: list[str] = []
        for i, item in enumerate(value):
            checked = check(item) if isinstance(item, str) else None
            if checked is None:
                self.problem(f"{key}[{i}]", f"{item!r} is not {expected}")
            else:
                result.append(checked)
        return tuple(result) if len(result) == len(value) else None

    def has(self, key: str) -> bool:
        """True when the table holds ``key`` (which counts as asked for)."""
        self._seen.add(key)
        return key in self._data

    def flag(self, key: str) -> bool | None:
        """An optional boolean; ``None`` when absent or invalid (a problem then)."""
        if not self.has(key):
            return None
        value = self._data[key]
        if not isinstance(value, bool):
            self.problem(key, f"{value!r} is not a boolean (expected true or false)")
            return None
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        """A required whole number from ``low`` to ``high``."""
        value = self.raw(key, True)
        if value is MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(key, f"{value!r} is not a whole number from {low} to {high}")
            return None
        return value

    def choices(self, key: str, enum: type[E], required: bool = False) -> tuple[E, ...]:
        """A list of distinct values of ``enum`` (empty when absent or invalid)."""
        if not self.has(key):
            if required:
                self.problem(key, "is missing (required)")
            return ()
        value = self._data[key]
        allowed = ", ".join(repr(m.value) for m in enum)
        if not isinstance(value, list) or not value:
            self.problem(
                key, f"{value!r} is not a non-empty list (expected values among {allowed})"
            )
            return ()
        result: list[E] = []
        for i, item in enumerate(value):
            try:
                choice = enum(item)
            except ValueError:
                self.problem(f"{key}[{i}]", f"{item!r} is not allowed (expected one of {allowed})")
                continue
            if choice in result:
                self.problem(f"{key}[{i}]", f"{item!r} is listed twice (expected each value once)")
                continue
            result.append(choice)
        return tuple(result)

    def finish(self) -> None:
        """Report keys that were never asked for: typos must not be ignored silently."""
        for key in self._data:
            if key not in self._seen:
                known = sorted(self._seen)
                hint = _did_you_mean(key, known)
                self.problem(key, f"is not a known key{hint} (known here: {', '.join(known)})")


def _did_you_mean(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def host_name(text: str) -> str | None:
    try:
        name = normalise_domain(text)
    except AddressError:
        return None
    return name if is_hostname(name) else None


def https_url_of(text: str) -> str | None:
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname or host_name(parts.hostname) is None:
        return None
    if any(c.isspace() for c in text) or not text.isprintable():
        return None
    return text
