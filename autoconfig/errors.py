"""The one exception tree of the project.

::

    AutoconfigError                         base of everything we raise on purpose
    ├── ConfigError (ValueError)            profiles or service settings are invalid; carries every problem
    ├── AddressError (ValueError)           an e-mail address is malformed                    → HTTP 400
    ├── UnknownDomainError (LookupError)    no profile serves this domain                     → HTTP 404
    ├── RequestError (ValueError)           a request is malformed in another way             → HTTP 400
    │   ├── BodyTooLargeError               a request body is over the limit                  → HTTP 413
    │   ├── TooManyRequestsError            one client asked too much, for a while            → HTTP 429
    │   └── XMLError                        a request body is not acceptable XML              → HTTP 400
    └── DirectoryError (OSError)            the login directory cannot be read

Each mapping of these classes to something else is a table keyed by class, read through
:func:`for_class`: HTTP statuses in ``autoconfig.web.errors``, exit codes in ``autoconfig.cli``,
Autodiscover error codes in ``autoconfig.formats.autodiscover``. Each class also subclasses a
builtin so callers that know nothing of ours still catch it sensibly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class AutoconfigError(Exception):
    """Base class of every error the project raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a settings file: where, what was found, what was expected."""

    source: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.key}" if self.key else self.source
        return f"{where}: {self.message}"


class ConfigError(AutoconfigError, ValueError):
    """Profiles or service settings are invalid. ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class AddressError(AutoconfigError, ValueError):
    """An e-mail address is malformed; the message says what is wrong with it."""


class UnknownDomainError(AutoconfigError, LookupError):
    """No profile serves the requested domain."""


class RequestError(AutoconfigError, ValueError):
    """A request is malformed (other than its address)."""


class BodyTooLargeError(RequestError):
    """A request body is larger than the service accepts."""


class TooManyRequestsError(RequestError):
    """One client asked for more than its share (a bound per client and minute); it may ask again
    later."""


class XMLError(RequestError):
    """A request body is not well-formed XML, or uses what untrusted XML may not (a DOCTYPE).

    Autodiscover answers it with its own error document (code 600) rather than an HTTP error.
    """


class DirectoryError(AutoconfigError, OSError):
    """The login directory cannot be read or is malformed."""


def for_class(table: Mapping[Any, T], exc: BaseException, default: T) -> T:
    """The value ``table`` gives the class of ``exc`` or its nearest parent; ``default`` when it
    names none of them. The one walk over an exception's MRO that every mapping uses."""
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
    return default
