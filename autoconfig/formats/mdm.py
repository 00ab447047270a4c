"""What a device-management server (MDM) puts in per person: the variables of the common MDMs,
shared by the declaration (:mod:`.ddm`) and the classic profile template
(:func:`autoconfig.formats.mobileconfig.mdm_template`).

A school's iPads are enrolled in an MDM, which pushes one configuration to every device and
replaces its variables with the facts of the person the device belongs to. The service cannot
know that person, so these outputs carry the variables instead of an address and a login:

- the address is the MDM's e-mail variable;
- the login is the address variable when a client logging in with the address gets in
  (:attr:`LoginPolicy.address_is_a_login`: the rule's login is the address, or the servers accept
  it, ``login.address_accepted``), else the MDM's variable for the user's directory login: the
  user attribute behind it must then hold the login (e.g. users synced into the MDM from the
  same LDAP as the mail servers).

Facts: Jamf Pro's payload variables (``$EMAIL``, ``$USERNAME``, ``$FULLNAME``); Microsoft
Intune's tokens for custom profiles (``{{mail}}``, and ``{{OnPremisesSamAccountName}}``, the
on-premises directory's account name synced into Entra ID: ``{{userprincipalname}}`` looks like an
address and ``{{username}}`` is the display name; tokens are case-sensitive); VMware/Omnissa
Workspace ONE's lookup values (``{EmailAddress}``, ``{EnrollmentUser}``, ``{FirstName}``,
``{LastName}``). Intune takes no custom declarations: its custom profiles are classic
``.mobileconfig`` files, and its settings catalog offers a few declarations of its own, no mail
account (Microsoft's "Use custom settings for Apple devices" and "Apple settings catalog" pages).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from autoconfig.model import Provider


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
    declarations: bool = True
    """Whether the MDM deploys custom declarations (``render ddm``)."""


VARIABLES = {
    Vendor.JAMF: Variables("$EMAIL", "$USERNAME", "$FULLNAME"),
    Vendor.INTUNE: Variables("{{mail}}", "{{OnPremisesSamAccountName}}", None, declarations=False),
    Vendor.WORKSPACE_ONE: Variables("{EmailAddress}", "{EnrollmentUser}", "{FirstName} {LastName}"),
}
DEFAULT_VENDOR = Vendor.JAMF
DECLARATIVE = tuple(vendor for vendor, known in VARIABLES.items() if known.declarations)
"""The MDMs ``render ddm`` writes for."""


@dataclass(frozen=True, slots=True)
class Person:
    """What an MDM output writes for the person: variables the MDM replaces."""

    address: str
    login: str
    name: str | None


def person(provider: Provider, vendor: Vendor) -> Person:
    """The variables standing for the address, the login and the name under ``vendor``."""
    variables = VARIABLES[vendor]
    login = variables.address if provider.login.address_is_a_login else variables.user
    return Person(variables.address, login, variables.name)
