"""The template backend: the login ID derived from the address itself."""

from __future__ import annotations

from autoconfig.address import Address
from autoconfig.model import LoginPolicy
from autoconfig.usernames.entry import Entry


class TemplateResolver:
    """Answers every address with the policy's template expanded for it (``%EMAILLOCALPART%`` …)."""

    def __init__(self, policy: LoginPolicy) -> None:
        self.policy = policy

    @property
    def description(self) -> str:
        return f"template {self.policy.template}"

    def lookup(self, address: Address) -> Entry:
        return Entry(self.policy.expand(address))

    def close(self) -> None:
        """Nothing to release."""
