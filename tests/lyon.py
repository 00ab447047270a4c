"""The fictional Lyon académie of the help-site tests (``tests/data/lyon/``), written into a folder
with two dated notices relative to the day the tests run: one current, one past (and one to come,
which must not show either)."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

TESTS = Path(__file__).resolve().parent

LYON_DATA = TESTS / "data" / "lyon"
LYON_DOMAIN = "ac-lyon.example"
LYON_HOST = f"autoconfig.{LYON_DOMAIN}"
CURRENT_NOTICE = {"fr": "Coupure en cours : la messagerie est lente", "en": "Ongoing: mail is slow"}
PAST_NOTICE = {"fr": "Coupure terminée de l'an passé", "en": "Last year's finished outage"}
FUTURE_NOTICE = {"fr": "Coupure prévue l'an prochain", "en": "Next year's planned outage"}
AIX_WORDS = (
    "Aix",
    "Marseille",
    "aixmarseille",
    "INA",
    "NUMEN",
    "identifiant académique",
    "academic ID",
    "DSDEN",
    "M'auto dépanner",
    "Valider",
    "webmel",
)
"""Words of the Aix-Marseille profile that no other académie's site may show."""


def _notice(start: datetime.date, end: datetime.date, texts: dict[str, str]) -> str:
    return (
        f"\n[[guide.notice]]\nfrom = {start.isoformat()}\nuntil = {end.isoformat()}\n"
        f'text.fr = "{texts["fr"]}"\ntext.en = "{texts["en"]}"\n'
    )


def write_profile(folder: Path, today: datetime.date | None = None) -> Path:
    """``folder``/ac-lyon.toml (with its notices) and the logo beside it; the profile's path."""
    day = today or datetime.date.today()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(LYON_DATA / "logo.svg", folder / "logo.svg")
    days = datetime.timedelta
    text = (LYON_DATA / "ac-lyon.toml").read_text(encoding="utf-8")
    text += _notice(day - days(2), day + days(2), CURRENT_NOTICE)
    text += _notice(day - days(400), day - days(360), PAST_NOTICE)
    text += _notice(day + days(360), day + days(365), FUTURE_NOTICE)
    target = folder / "ac-lyon.toml"
    target.write_text(text, encoding="utf-8")
    return target
