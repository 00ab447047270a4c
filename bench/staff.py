"""The fictional staff every benchmark asks about, as a CSV directory or as LDAP entries.

Row ``i`` is ``prenom<i>.nom<i>@<domain>`` with the login ``pn<i:06d>`` and the name
``Prénom<i> Nom<i>``; ``{i}`` in a scenario's path or body (:mod:`scenarios`) stands for ``i``.

Every request of a benchmark asks for a person of the directory, so an answer carrying the fallback
is a wrong login; and since the address, the login and the name all carry the row number, an answer
that names the person (the address in an Apple profile, the display name in Autodiscover) tells
whose login it should carry: the Lua patterns below read that number back (``wrk.py``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from tests.slapd import Person

DOMAIN = "ac-aix-marseille.fr"
ADDRESS = "prenom{i}.nom{i}%40" + DOMAIN
"""The address of row ``{i}`` as it goes into a query string."""
LOGIN_ROW = "^pn(%d+)$"
"""Lua pattern: the row of a login of the directory (anything else is not one of its logins)."""
ADDRESS_ROW = "prenom(%d+)%.nom%d+@"
"""Lua pattern: the row of the person an address names."""
NAME_ROW = " Nom(%d+)"
"""Lua pattern: the row of the person a display name names."""


def address(i: int) -> str:
    return f"prenom{i}.nom{i}@{DOMAIN}"


def login(i: int) -> str:
    return f"pn{i:06d}"


def name(i: int) -> str:
    return f"Prénom{i} Nom{i}"


def write_csv(path: Path, rows: int) -> None:
    """A CSV directory (``email,login,name``) of rows 0 to ``rows - 1``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "login", "name"])
        for i in range(rows):
            writer.writerow([address(i), login(i), name(i)])


def people(rows: int) -> list[Person]:
    """The same rows as entries of the test slapd (``tests/slapd.py``)."""
    return [Person(login(i), address(i), name(i), name(i)) for i in range(rows)]
