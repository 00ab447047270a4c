from __future__ import annotations

from pathlib import Path

import pytest

from autoconfig.errors import ConfigError
from autoconfig.model import DEFAULT_LOGIN_NAME, Auth, LoginSource, Security, Unknown
from autoconfig.profiles import load
from tests.conftest import PROFILES

BASE = (PROFILES / "ac-aix-marseille.toml").read_text(encoding="utf-8")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def broken(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def test_project_profiles_load() -> None:
    providers = {p.id: p for p in load(PROFILES)}
    academie = providers["ac-aix-marseille.fr"]
    assert academie.domains == ("ac-aix-marseille.fr",)
    assert (academie.imap.host, academie.imap.port, academie.imap.security, academie.imap.auth) == (
        "imap.ac-aix-marseille.fr",
        993,
        Security.TLS,
        Auth.PASSWORD,
    )
    assert (academie.smtp.host, academie.smtp.port, academie.smtp.security) == (
        "smtp.ac-aix-marseille.fr",
        465,
        Security.TLS,
    )
    assert academie.login.source is LoginSource.DIRECTORY
    assert academie.login.unknown is Unknown.ASK
    assert academie.login.name.get("fr") == "identifiant académique"
    assert academie.login.name.get("en") == "academic ID"
    assert academie.webmail.urls == (
        "https://webmail.ac-aix-marseille.fr/",
        "https://webmel.ac-aix-marseille.fr/",
    )
    assert academie.webmail.login_portal == "https://appli.ac-aixmarseille.fr/plog/public/login"
    assert academie.name.get("en") == "Aix-Marseille academic mail"
    assert (
        academie.name.get("de") == academie.name.default == "Messagerie académique d'Aix-Marseille"
    )
    example = providers["example.org"]
    assert example.caldav is not None
    assert (example.caldav.host, example.caldav.port, example.caldav.path) == (
        "dav.example.org",
        443,
        "/caldav/",
    )


CASES = [
    (
        "port out of range",
        ("port = 993", "port = 99330"),
        "imap.port: 99330 is not a valid port (expected 1-65535)",
    ),
    ("port as text", ("port = 465", 'port = "465"'), "smtp.port: '465' is not a valid port"),
    ("port as bool", ("port = 465", "port = true"), "smtp.port: True is not a valid port"),
    (
        "unknown security",
        ('security = "tls"', 'security = "ssl"'),
        "imap.security: 'ssl' is not allowed (expected one of 'tls', 'starttls')",
    ),
    (
        "plain security",
        ('security = "tls"', 'security = "none"'),
        "imap.security: 'none' is not allowed",
    ),
    (
        "unknown auth",
        ('auth = "password"', 'auth = "oauth2"'),
        "imap.auth: 'oauth2' is not allowed (expected one of 'password', 'password-encrypted')",
    ),
    (
        "host not a hostname",
        ('host = "imap.ac-aix-marseille.fr"', 'host = "imap server"'),
        "imap.host: 'imap server' is not a host name",
    ),
    (
        "host single label",
        ('host = "smtp.ac-aix-marseille.fr"', 'host = "smtp"'),
        "smtp.host: 'smtp' is not a host name",
    ),
    ("missing imap table", ("[imap]", "[imap_typo]"), "imap: is missing (required)"),
    (
        "missing host",
        ('host = "imap.ac-aix-marseille.fr"\n', ""),
        "imap.host: is missing (required)",
    ),
    ("unknown key", ("port = 993", "port = 993\nsocket = 1"), "imap.socket: is not a known key"),
    ("typo with hint", ("port = 993", "prot = 993"), "did you mean 'port'?"),
    (
        "unknown source",
        ('source = "directory"', 'source = "ldap"'),
        "login.source: 'ldap' is not allowed",
    ),
    (
        "template with directory",
        ('fallback = "%EMAILLOCALPART%"', 'template = "%EMAILLOCALPART%"'),
        "login.template: is not used when login.source = 'directory'",
    ),
    (
        "webmail not https",
        ('"https://webmail.ac-aix-marseille.fr/"', '"http://webmail.ac-aix-marseille.fr/"'),
        "webmail.urls[0]: 'http://webmail.ac-aix-marseille.fr/' is not an https URL",
    ),
    (
        "name too long",
        ('name.en = "Aix-Marseille academic mail"', 'name.en = "' + "x" * 61 + '"'),
        "provider.name.en: 'xxxx",
    ),
    (
        "languages differ",
        ('short_name.en = "Académie"', 'short_name.de = "Akademie"'),
        "provider.short_name: has languages ['fr', 'de'] (expected ['fr', 'en']",
    ),
    (
        "bad language code",
        ('title.en = "Set up your academic mailbox"', 'title.english = "x"'),
        "help.title.english: 'english' is not a language code",
    ),
    (
        "empty domains",
        ('domains = ["ac-aix-marseille.fr"]', "domains = []"),
        "provider.domains: [] is not a non-empty list",
    ),
    (
        "bad domain",
        ('domains = ["ac-aix-marseille.fr"]', 'domains = ["ac aix"]'),
        "provider.domains[0]: 'ac aix' is not a domain name",
    ),
    (
        "dav not https",
        ("[webmail]", '[caldav]\nurl = "ftp://dav.example.org/"\n\n[webmail]'),
        "caldav.url: 'ftp://dav.example.org/' is not an https URL",
    ),
    ("not toml", ("[imap]", "[imap"), "cannot be read as TOML"),
    (
        "unknown rule",
        ('unknown = "ask"', 'unknown = "guess"'),
        "login.unknown: 'guess' is not allowed (expected one of 'ask', 'fallback')",
    ),
    (
        "unknown rule with a template",
        ('source = "directory"', 'source = "template"\ntemplate = "%EMAILADDRESS%"'),
        "login.unknown: is not used when login.source = 'template'",
    ),
    (
        "login name without its languages",
        ('name.en = "academic ID"\n', ""),
        "login.name: has languages ['fr'] (expected ['fr', 'en']",
    ),
    (
        "login name too long",
        ('name.en = "academic ID"', f'name.en = "{"x" * 41}"'),
        "login.name.en: 'xxxx",
    ),
    (
        "pale colour",
        (
            'organization.en = "Académie d\'Aix-Marseille"',
            'organization.en = "x"\ncolour = "#ffcc00"',
        ),
        "provider.colour: '#ffcc00' has a contrast of 1.",
    ),
    (
        "colour readable on white, not on the tint",
        (
            'organization.en = "Académie d\'Aix-Marseille"',
            'organization.en = "x"\ncolour = "#757575"',
        ),
        "with the light tint of the help site (expected at least 4.5:1, WCAG AA",
    ),
    (
        "colour not hex",
        ('organization.en = "Académie d\'Aix-Marseille"', 'organization.en = "x"\ncolour = "navy"'),
        "provider.colour: 'navy' is not a colour (expected #rrggbb",
    ),
    (
        "logo missing",
        (
            'organization.en = "Académie d\'Aix-Marseille"',
            'organization.en = "x"\nlogo = "nowhere.svg"',
        ),
        "provider.logo: 'nowhere.svg' cannot be read",
    ),
    (
        "logo of another type",
        (
            'organization.en = "Académie d\'Aix-Marseille"',
            'organization.en = "x"\nlogo = "logo.gif"',
        ),
        "provider.logo: 'logo.gif' is not an .svg or .png file",
    ),
    (
        "webmail label without its languages",
        (
            '"https://webmel.ac-aix-marseille.fr/"',
            '{ url = "https://webmel.ac-aix-marseille.fr/", label.fr = "secours" }',
        ),
        "webmail.urls[1].label: has languages ['fr'] (expected ['fr', 'en']",
    ),
    (
        "webmail entry without url",
        ('"https://webmel.ac-aix-marseille.fr/"', '{ label.fr = "a", label.en = "b" }'),
        "webmail.urls[1].url: is missing (required)",
    ),
]


@pytest.mark.parametrize(("case", "change", "message"), CASES, ids=[c[0] for c in CASES])
def test_broken_profile_names_file_key_value_and_expectation(
    tmp_path: Path, case: str, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, "x.toml", broken(*change))
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    text = str(caught.value)
    assert message in text, text
    assert all(str(p).startswith(f"{path}:") for p in caught.value.problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = broken("port = 993", "port = 0")
    text = text.replace('security = "tls"', 'security = "SSL"', 1)
    text = text.replace('host = "smtp.ac-aix-marseille.fr"', 'host = "-bad-"')
    write(tmp_path, "x.toml", text)
    write(
        tmp_path,
        "y.toml",
        BASE.replace("ac-aix-marseille.fr", "other.example").replace("[help]", "[hepl]"),
    )
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    keys = {(Path(p.source).name, p.key) for p in caught.value.problems}
    assert {
        ("x.toml", "imap.port"),
        ("x.toml", "imap.security"),
        ("x.toml", "smtp.host"),
        ("y.toml", "help"),
        ("y.toml", "hepl"),
    } <= keys


def test_duplicate_domain_across_profiles(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", BASE)
    write(tmp_path, "b.toml", BASE.replace("Messagerie académique", "Copie"))
    with pytest.raises(ConfigError, match=r"'ac-aix-marseille\.fr' is already served by .*a\.toml"):
        load(tmp_path)


def test_domain_spelling_is_normalised_when_loading(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.toml",
        BASE.replace(
            'domains = ["ac-aix-marseille.fr"]',
            'domains = ["AC-Aix-Marseille.FR", "école.example"]',
        ),
    )
    (provider,) = load(tmp_path)
    assert provider.domains == ("ac-aix-marseille.fr", "xn--cole-9oa.example")
    assert provider.id == "ac-aix-marseille.fr"


@pytest.mark.parametrize(
    ("setup", "message"),
    [("missing", "is not a folder of profiles"), ("empty", "holds no *.toml profile")],
)
def test_folder_problems(tmp_path: Path, setup: str, message: str) -> None:
    folder = tmp_path / "profiles"
    if setup == "empty":
        folder.mkdir()
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")):
        load(folder)


def test_login_rule_defaults(tmp_path: Path) -> None:
    """Without ``unknown`` and ``name``: "ask", and « identifiant » / "login"."""
    text = broken('unknown = "ask"\n', "")
    text = text.replace('name.fr = "identifiant académique"\nname.en = "academic ID"\n', "")
    write(tmp_path, "x.toml", text)
    (provider,) = load(tmp_path)
    assert provider.login.unknown is Unknown.ASK
    assert provider.login.name == DEFAULT_LOGIN_NAME


# PACC: opt-in, and only for servers PACC clients can log in to (the address, implicit TLS).
PACC_ON = "\n[pacc]\nenabled = true\n"
ACCEPTED = (
    'fallback = "%EMAILLOCALPART%"',
    'fallback = "%EMAILLOCALPART%"\naddress_accepted = true',
)
NO_LOGIN_FIELD = "pacc.enabled: PACC has no username field: clients log in with the address"

PACC_REFUSED = [
    ("login is not the address", [], NO_LOGIN_FIELD),
    (
        "address not accepted, said explicitly",
        [
            (
                'fallback = "%EMAILLOCALPART%"',
                'fallback = "%EMAILLOCALPART%"\naddress_accepted = false',
            )
        ],
        NO_LOGIN_FIELD,
    ),
    (
        "imap with starttls",
        [ACCEPTED, ('port = 993\nsecurity = "tls"', 'port = 143\nsecurity = "starttls"')],
        "pacc.enabled: PACC clients reach imap with implicit TLS on port 993",
    ),
    (
        "smtp on 587",
        [ACCEPTED, ('port = 465\nsecurity = "tls"', 'port = 587\nsecurity = "starttls"')],
        "pacc.enabled: PACC clients reach smtp with implicit TLS on port 465",
    ),
    (
        "imap with cram-md5 only",
        [ACCEPTED, ('auth = "password"', 'auth = "password-encrypted"')],
        "pacc.enabled: PACC announces a password sent inside TLS, its clients would not try "
        "password-encrypted (expected imap.auth = 'password')",
    ),
    (
        "smtp with cram-md5 only",
        [ACCEPTED, ('auth = "password"\n\n[login]', 'auth = "password-encrypted"\n\n[login]')],
        "pacc.enabled: PACC announces a password sent inside TLS, its clients would not try "
        "password-encrypted (expected smtp.auth = 'password')",
    ),
    (
        "dav on another port",
        [
            ACCEPTED,
            ("[webmail]", '[caldav]\nurl = "https://dav.example.org:8443/cal/"\n\n[webmail]'),
        ],
        "pacc.enabled: PACC clients reach caldav on the https port",
    ),
    (
        "address_accepted not a boolean",
        [
            (
                'fallback = "%EMAILLOCALPART%"',
                'fallback = "%EMAILLOCALPART%"\naddress_accepted = "yes"',
            )
        ],
        "login.address_accepted: 'yes' is not a boolean",
    ),
]


@pytest.mark.parametrize(
    ("case", "changes", "message"), PACC_REFUSED, ids=[c[0] for c in PACC_REFUSED]
)
def test_pacc_is_refused_where_its_clients_could_not_log_in(
    tmp_path: Path, case: str, changes: list[tuple[str, str]], message: str
) -> None:
    text = BASE
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    write(tmp_path, "x.toml", text + PACC_ON)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert message in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('\n[pacc]\nenabled = "yes"\n', "pacc.enabled: 'yes' is not a boolean"),
        ("\n[pacc]\nenable = true\n", "pacc.enable: is not a known key; did you mean 'enabled'?"),
        ('pacc = "on"\n', "pacc: 'on' is not a table"),
    ],
)
def test_pacc_table_is_checked(tmp_path: Path, table: str, message: str) -> None:
    text = BASE.replace(*ACCEPTED)
    write(tmp_path, "x.toml", table + text if table.startswith("pacc") else text + table)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert message in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    ("text", "pacc"),
    [
        (BASE, False),  # off unless asked for
        (BASE.replace(*ACCEPTED), False),
        (BASE.replace(*ACCEPTED) + PACC_ON, True),
        (BASE.replace(*ACCEPTED) + "\n[pacc]\nenabled = false\n", False),
        (BASE + "\n[pacc]\nenabled = false\n", False),  # off needs nothing
    ],
    ids=["absent", "accepted-only", "enabled", "disabled", "disabled-directory-login"],
)
def test_pacc_is_opt_in(tmp_path: Path, text: str, pacc: bool) -> None:
    write(tmp_path, "x.toml", text)
    (provider,) = load(tmp_path)
    assert provider.pacc is pacc


def test_a_template_login_that_is_the_address_needs_no_declaration() -> None:
    example = {p.id: p for p in load(PROFILES)}["example.org"]
    assert example.login.template == "%EMAILADDRESS%"
    assert not example.login.address_accepted
    assert example.pacc


GOOD_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("logo.svg", b"<svg", "is not an SVG image (not well-formed XML)"),
        ("logo.svg", b"<html/>", "expected an <svg> root in the SVG namespace"),
        (
            "logo.svg",
            GOOD_SVG.replace(b"<rect", b"<script>alert(1)</script><rect"),
            "holds a script or foreign content",
        ),
        ("logo.svg", GOOD_SVG.replace(b"<rect", b'<rect onclick="x()"'), "holds an event handler"),
        (
            "logo.svg",
            GOOD_SVG.replace(b"<rect", b'<image href="https://x.example/a.png"/><rect'),
            "links to another file",
        ),
        ("logo.png", b"GIF89a", "is not a PNG image"),
        ("logo.png", PNG + b"\0" * (256 * 1024), "bytes long (expected at most 262144)"),
    ],
)
def test_a_logo_that_is_not_a_plain_picture_is_refused(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(content)
    write(tmp_path, "x.toml", with_logo(name))
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    (problem,) = caught.value.problems
    assert (problem.key, problem.message[: len(name) + 2]) == ("provider.logo", f"'{name}'")
    assert message in problem.message


def with_logo(name: str, extra: str = "") -> str:
    return BASE.replace(
        'organization.en = "Académie d\'Aix-Marseille"',
        f'organization.en = "Académie d\'Aix-Marseille"\nlogo = "{name}"{extra}',
    )


@pytest.mark.parametrize(("name", "content"), [("logo.svg", GOOD_SVG), ("Logo.PNG", PNG)])
def test_a_logo_is_read_beside_the_profile(tmp_path: Path, name: str, content: bytes) -> None:
    (tmp_path / name).write_bytes(content)
    write(tmp_path, "x.toml", with_logo(name, '\ncolour = "#7A1F3D"'))
    (provider,) = load(tmp_path)
    assert provider.logo is not None
    assert provider.logo.content == content
    assert provider.logo.media_type == ("image/svg+xml" if name.endswith("svg") else "image/png")
    assert provider.logo.path.startswith("/assets/logo-")
    assert provider.colour == "#7a1f3d"


def test_webmail_labels_are_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        "x.toml",
        broken(
            '"https://webmel.ac-aix-marseille.fr/"',
            '{ url = "https://webmel.ac-aix-marseille.fr/", label.fr = "secours", label.en = "fallback" }',
        ),
    )
    (provider,) = load(tmp_path)
    assert provider.webmail.urls[1] == "https://webmel.ac-aix-marseille.fr/"
    (_first, none), (_second, label) = provider.webmail.links
    assert none is None
    assert label is not None
    assert label.get("en") == "fallback"
