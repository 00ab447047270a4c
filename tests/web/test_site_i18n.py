"""The help site's catalogues: complete, current, and with the same placeholders and markup as the
English texts; and the language chosen from ``Accept-Language``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from autoconfig.settings import data_dir
from autoconfig.web.site import i18n

TEMPLATES = data_dir("templates")
LOCALE = data_dir("locale")
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TAG = re.compile(r"</?\w+")


def template_texts() -> set[str]:
    found = extract_from_dir(
        str(TEMPLATES),
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"trimmed": "true"}},
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def catalogue(lang: str) -> dict[str, tuple[str, bool]]:
    with i18n.catalogue_path(LOCALE, lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    return {m.id: (str(m.string), m.fuzzy) for m in catalog if m.id and isinstance(m.id, str)}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_holds_exactly_the_texts_of_the_templates(lang: str) -> None:
    texts = template_texts()
    assert len(texts) > 100
    entries = catalogue(lang)
    assert sorted(texts - entries.keys()) == [], "run scripts/messages"
    assert sorted(entries.keys() - texts) == [], "run scripts/messages"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_text_is_translated_with_the_same_placeholders_and_tags(lang: str) -> None:
    for english, (translated, fuzzy) in catalogue(lang).items():
        assert translated, f"{lang}: not translated: {english!r}"
        assert not fuzzy, f"{lang}: fuzzy: {english!r}"
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(english)), (
            english
        )
        assert sorted(TAG.findall(translated)) == sorted(TAG.findall(english)), english


def test_template_catalogue_is_current() -> None:
    with (LOCALE / "messages.pot").open("rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    assert pot == template_texts(), "run scripts/messages"


def test_catalogues_compile_and_translate() -> None:
    translations = i18n.load(LOCALE)
    assert translations["fr"].gettext("Forgotten password") == "Mot de passe oublié"
    assert translations["en"].gettext("Forgotten password") == "Forgotten password"


def test_missing_catalogue_is_a_config_error(tmp_path: Path) -> None:
    from autoconfig.errors import ConfigError

    with pytest.raises(ConfigError, match=r"messages\.po: cannot be read"):
        i18n.load(tmp_path)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "fr"),
        ("", "fr"),
        ("fr", "fr"),
        ("en", "en"),
        ("EN-us", "en"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("fr-CA,en;q=0.9", "fr"),
        ("de,en;q=0.7,fr;q=0.3", "en"),
        ("en;q=0.3,fr;q=0.7", "fr"),
        ("en;q=0", "fr"),
        ("en;q=abc", "fr"),
        ("*", "fr"),
        ("es,it", "fr"),
        ("en, fr", "en"),
        ("fr, en", "fr"),
        ("x" * 5000, "fr"),
    ],
)
def test_negotiate(header: str | None, lang: str) -> None:
    assert i18n.negotiate(header) == lang


def test_no_aix_marseille_word_in_the_templates_or_the_catalogues() -> None:
    """Every word of one académie comes from its profile (the Aix-Marseille one included)."""
    from tests.lyon import AIX_WORDS

    files = [*TEMPLATES.rglob("*.html"), *LOCALE.rglob("*.po"), LOCALE / "messages.pot"]
    assert len(files) > 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        found = [w for w in AIX_WORDS if re.search(rf"\b{re.escape(w)}\b", text)]
        assert found == [], f"{path.name} holds {found}"
