"""The help site's languages: the gettext catalogues and the choice of a language per request.

The texts are written in English in the templates (the message ids) and translated in
``locale/<lang>/LC_MESSAGES/messages.po``. The ``.po`` files are compiled in memory when the
site loads, so no build step is needed and a stale ``.mo`` file can never be served.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from autoconfig.errors import ConfigError, Problem

LANGUAGES = ("fr", "en")
"""Every language of the help site; the first is the default."""
SOURCE_LANGUAGE = "en"
"""The language of the message ids: it needs no catalogue."""
DOMAIN = "messages"


def catalogue_path(locale_dir: Path, lang: str) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(locale_dir: Path) -> dict[str, gettext.NullTranslations]:
    """One translations object per language, compiled from the ``.po`` files of ``locale_dir``."""
    result: dict[str, gettext.NullTranslations] = {}
    for lang in LANGUAGES:
        if lang == SOURCE_LANGUAGE:
            result[lang] = gettext.NullTranslations()
            continue
        path = catalogue_path(locale_dir, lang)
        try:
            with path.open("rb") as po:
                catalog = read_po(po, locale=lang, domain=DOMAIN)
        except (OSError, ValueError) as exc:
            raise ConfigError([Problem(str(path), "", f"cannot be read: {exc}")]) from exc
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        result[lang] = gettext.GNUTranslations(compiled)
    return result


def negotiate(accept_language: str | None) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header; French when none fits."""
    best, best_q = LANGUAGES[0], 0.0
    for position, item in enumerate((accept_language or "")[:1000].split(",")):
        tag, _, params = item.strip().partition(";")
        lang = tag.strip().split("-")[0].lower()
        if lang not in LANGUAGES:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        # Earlier entries win ties; a tiny penalty per position keeps the order stable.
        score = q - position * 1e-6
        if q > 0 and score > best_q:
            best, best_q = lang, score
    return best
