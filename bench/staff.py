"""The fictional staff every benchmark asks about, as a CSV directory or as LDAP entries.

Row ``i`` is ``prenom<i>.nom<i>@<domain>`` with the login ``pn<i:06d>`` and the name
``Prénom<i> Nom<i>``; ``{i}`` in a scenario's path or body (:mod:`scenarios`) stands for ``i``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tests.slapd import Person

DOMAIN = "ac-aix-marseille.fr"
ADDRESS = "prenom{i}.nom{i}%40" + DOMAIN
"""The address of row ``{i}`` as it goes into a query string."""


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
