"""``--login ADDRESS`` (and ``--address ADDRESS``): the login the service hands out for an address
(asked of the loaded service, directory included, as a client's request would be), and the
password to try it with."""

from __future__ import annotations

from pathlib import Path

from autoconfig.doctor import Check, Status
from autoconfig.doctor.mailchecks import Credentials
from autoconfig.errors import ConfigError, Problem
from autoconfig.model import Account, Provider
from autoconfig.service import Query, Service


async def account_of(
    service: Service, provider: Provider, domain: str, typed: str, option: str = "--login"
) -> Account:
    """The account the service answers with for ``typed`` (an address of ``domain``, given with
    ``option``)."""
    resolution = await service.resolve(Query(address=typed))
    if resolution.provider.id != provider.id:
        raise ConfigError([Problem(option, typed, f"is not an address of {domain}")])
    return resolution.account


def login_check(account: Account, domain: str) -> Check:
    """What the service hands out for the person, and whether it is their login for sure."""
    said = f"the service hands out {account.login} for {account.address} ({account.found})"
    if account.login_known:
        return Check("login", domain, Status.PASS, said)
    hint = (
        "the directory does not list this address (or did not answer): is it in the directory "
        "given with --directory?"
    )
    return Check("login", domain, Status.WARN, f"{said}, not known for sure", hint)


def read_password(path: Path) -> str:
    """The first line of ``path``; a :class:`ConfigError` when there is none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem("--password-file", str(path), str(exc))]) from exc
    if not lines or not lines[0]:
        raise ConfigError([Problem("--password-file", str(path), "its first line is empty")])
    return lines[0]


def credentials(account: Account, password: str) -> Credentials:
    return Credentials(account.login, password)
