"""What a device-management server (MDM) puts in per person: the variables of the common MDMs,
shared by the declaration (:mod:`.ddm`) and the classic profile template
(:func:`autoconfig.formats.mobileconfig.mdm_template`).

A school's iPads are enrolled in an MDM, which pushes one configuration to every device and
replaces its variables with the facts of the person the device belongs to. The service cannot
know that person, so these outputs carry the variables instead of an address and a login:

- the address is the MDM's e-mail variable;
- the login is the address variable when the profile's rule says the login is the address
  (``template = "%EMAILADDRESS%"``), else the MDM's user-name variable: that account name must
  then be the login (e.g. an MDM user directory synced from the same LDAP as the mail servers).

Facts: Jamf Pro's payload variables (``$EMAIL``, ``$USERNAME``, ``$FULLNAME``), Microsoft
Intune's tokens (``{{mail}}``, ``{{userprincipalname}}``), VMware/Omnissa Workspace ONE's lookup
values (``{EmailAddress}``, ``{EnrollmentUser}``, ``{FirstName}``, ``{LastName}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from autoconfig.model import LoginSource, Provider


class Vendor(StrEnum):
    """The MDMs whose variables the outputs know (``--mdm-vendor``)."""

    JAMF = "jamf"
    INTUNE = "intune"
    WORKSPACE_ONE = "workspaceone"


@dataclass(frozen=True, slots=True)
class Variables:
    """One MDM's spelling of the person's address, account name and full name (``None``: it has
    no variable for it, and the key is left out)."""

    address: str
    user: str
    name: str | None


VARIABLES = {
    Vendor.JAMF: Variables("$EMAIL", "$USERNAME", "$FULLNAME"),
    Vendor.INTUNE: Variables("{{mail}}", "{{userprincipalname}}", None),
    Vendor.WORKSPACE_ONE: Variables("{EmailAddress}", "{EnrollmentUser}", "{FirstName} {LastName}"),
}
DEFAULT_VENDOR = Vendor.JAMF


@dataclass(frozen=True, slots=True)
class Person:
    """What an MDM output writes for the person: variables the MDM replaces."""

    address: str
    login: str
    name: str | None


def person(provider: Provider, vendor: Vendor) -> Person:
    """The variables standing for the address, the login and the name under ``vendor``."""
    variables = VARIABLES[vendor]
    policy = provider.login
    is_address = policy.source is LoginSource.TEMPLATE and policy.template == "%EMAILADDRESS%"
    login = variables.address if is_address else variables.user
    return Person(variables.address, login, variables.name)
