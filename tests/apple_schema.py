"""A validator of configuration profiles against Apple's own YAML schemas (``tests/apple_schemas/``).

It checks what a device checks before it installs a profile, and a little more: every key is known
to the schema of its dictionary, each value has the schema's type, required keys are present,
values are within ``rangelist`` and match ``format``, every ``PayloadUUID`` is a UUID, UUIDs and
``PayloadIdentifier`` values are unique in the profile, and payload identifiers extend the profile's.
:func:`problems` returns every problem found; an empty list means the profile is valid.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMAS = Path(__file__).resolve().parent / "apple_schemas"
UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
TYPES: dict[str, tuple[type, ...]] = {
    "<string>": (str,),
    "<integer>": (int,),
    "<real>": (float, int),
    "<boolean>": (bool,),
    "<array>": (list,),
    "<dictionary>": (dict,),
    "<data>": (bytes,),
    "<date>": (datetime,),
}

Keys = dict[str, dict[str, Any]]


@cache
def _payload_keys(folder: Path, name: str) -> Keys:
    """The ``payloadkeys`` of the schema file ``name`` of ``folder``, by key name."""
    with (folder / f"{name}.yaml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {entry["key"]: entry for entry in data["payloadkeys"]}


def _types(folder: Path, *shared: str) -> set[str]:
    """The types described in ``folder`` (one schema file each, named after its type), but for
    the files of keys ``shared`` by all."""
    return {p.stem for p in folder.glob("*.yaml") if p.stem not in shared}


def schema(name: str) -> Keys:
    """The ``payloadkeys`` of one configuration-profile schema file, by key name."""
    return _payload_keys(SCHEMAS, name)


def payload_types() -> set[str]:
    """The payload types this validator knows (one schema file each)."""
    return _types(SCHEMAS, "TopLevel", "CommonPayloadKeys")


def _value(where: str, spec: dict[str, Any], value: Any, found: list[str]) -> None:
    kind = spec["type"]
    if kind != "<any>":
        expected = TYPES[kind]
        wrong = not isinstance(value, expected) or (kind != "<boolean>" and isinstance(value, bool))
        if wrong:
            found.append(f"{where}: {value!r} is a {type(value).__name__} (expected {kind})")
            return
    if "rangelist" in spec and value not in spec["rangelist"]:
        found.append(f"{where}: {value!r} is not allowed (expected one of {spec['rangelist']})")
    if "format" in spec and not re.fullmatch(spec["format"], value):
        found.append(f"{where}: {value!r} does not match {spec['format']}")
    subkeys = spec.get("subkeys")
    if subkeys and kind == "<dictionary>":
        _dictionary(where, {s["key"]: s for s in subkeys}, value, found)
    elif subkeys and kind == "<array>":
        (item,) = subkeys
        for i, element in enumerate(value):
            _value(f"{where}[{i}]", item, element, found)


def _dictionary(where: str, keys: Keys, data: dict[str, Any], found: list[str]) -> None:
    if set(keys) == {"ANY"}:
        for key, value in data.items():
            _value(f"{where}.{key}", keys["ANY"], value, found)
        return
    for key, value in data.items():
        if key not in keys:
            found.append(f"{where}: {key!r} is not a key of this dictionary")
        else:
            _value(f"{where}.{key}", keys[key], value, found)
    for key, spec in keys.items():
        if spec.get("presence") == "required" and key not in data:
            found.append(f"{where}: required key {key!r} is missing")


def problems(profile: Any) -> list[str]:
    """Every way ``profile`` (a parsed plist) departs from Apple's schemas."""
    found: list[str] = []
    if not isinstance(profile, dict):
        return [f"the profile is a {type(profile).__name__} (expected a dictionary)"]
    top = dict(schema("TopLevel"))
    top.pop("PayloadContent")
    content = profile.get("PayloadContent")
    _dictionary("profile", top, {k: v for k, v in profile.items() if k != "PayloadContent"}, found)
    if not isinstance(content, list) or not content:
        found.append("profile: PayloadContent is missing or not a non-empty array")
        content = []
    uuids: list[Any] = [profile.get("PayloadUUID")]
    identifiers: list[Any] = [profile.get("PayloadIdentifier")]
    known = payload_types()
    for i, payload in enumerate(content):
        where = f"PayloadContent[{i}]"
        if not isinstance(payload, dict):
            found.append(f"{where}: is not a dictionary")
            continue
        kind = payload.get("PayloadType")
        if kind not in known:
            found.append(
                f"{where}: PayloadType {kind!r} has no schema here (known: {sorted(known)})"
            )
            continue
        _dictionary(
            f"{where}<{kind}>", {**schema("CommonPayloadKeys"), **schema(kind)}, payload, found
        )
        uuids.append(payload.get("PayloadUUID"))
        identifiers.append(payload.get("PayloadIdentifier"))
        ident = payload.get("PayloadIdentifier")
        if isinstance(ident, str) and not ident.startswith(f"{profile.get('PayloadIdentifier')}."):
            found.append(f"{where}: PayloadIdentifier {ident!r} does not extend the profile's")
    for uuid in uuids:
        if not isinstance(uuid, str) or not UUID.fullmatch(uuid):
            found.append(f"PayloadUUID {uuid!r} is not a UUID")
    for name, values in (("PayloadUUID", uuids), ("PayloadIdentifier", identifiers)):
        duplicates = sorted({str(v) for v in values if values.count(v) > 1})
        if duplicates:
            found.append(f"{name} values are not unique: {duplicates}")
    return found


# Declarative device management: declarations (JSON) against tests/apple_schemas/declarative/.

DECLARATIVE = SCHEMAS / "declarative"
MAX_OCTETS = 64
"""Apple's limit for an ``Identifier`` and a ``ServerToken`` (declarationbase.yaml)."""


def declaration_schema(name: str) -> Keys:
    """The ``payloadkeys`` of one declarative schema file, by key name."""
    return _payload_keys(DECLARATIVE, name)


def declaration_types() -> set[str]:
    """The declaration and credential types this validator knows."""
    return _types(DECLARATIVE, "declarationbase")


def _references(where: str, keys: Keys, data: Any, found: list[tuple[str, str, list[str]]]) -> None:
    """Every asset reference in ``data``: (where, the identifier named, the asset types allowed)."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        spec = keys.get(key)
        if spec is None:
            continue
        if "assettypes" in spec and isinstance(value, str):
            found.append((f"{where}.{key}", value, spec["assettypes"]))
        if spec.get("subkeys") and spec["type"] == "<dictionary>":
            _references(f"{where}.{key}", {s["key"]: s for s in spec["subkeys"]}, value, found)


def declaration_problems(declarations: Any) -> list[str]:
    """Every way a list of declarations departs from Apple's schemas: each declaration's base keys
    and payload, identifiers unique and at most 64 octets, and every asset reference naming a
    declaration of the list of an allowed asset type."""
    found: list[str] = []
    if not isinstance(declarations, list) or not declarations:
        return ["the declarations are not a non-empty list"]
    by_id: dict[str, str] = {}
    references: list[tuple[str, str, list[str]]] = []
    known = declaration_types()
    for i, declaration in enumerate(declarations):
        where = f"declarations[{i}]"
        if not isinstance(declaration, dict):
            found.append(f"{where}: is not a dictionary")
            continue
        base = {k: v for k, v in declaration.items()}
        _dictionary(where, declaration_schema("declarationbase"), base, found)
        for key in ("Identifier", "ServerToken"):
            value = declaration.get(key)
            if isinstance(value, str) and len(value.encode()) > MAX_OCTETS:
                found.append(f"{where}.{key}: {len(value.encode())} octets (at most {MAX_OCTETS})")
        kind = declaration.get("Type")
        if kind not in known:
            found.append(f"{where}: Type {kind!r} has no schema here (known: {sorted(known)})")
            continue
        ident = declaration.get("Identifier")
        if isinstance(ident, str):
            if ident in by_id:
                found.append(f"{where}: Identifier {ident!r} is used twice")
            by_id[ident] = kind
        payload = declaration.get("Payload")
        if isinstance(payload, dict):
            _dictionary(f"{where}<{kind}>.Payload", declaration_schema(kind), payload, found)
            _references(f"{where}.Payload", declaration_schema(kind), payload, references)
    for where, ident, allowed in references:
        if ident not in by_id:
            found.append(f"{where}: {ident!r} names no declaration of the list")
        elif by_id[ident] not in allowed:
            found.append(f"{where}: {ident!r} is a {by_id[ident]} (expected one of {allowed})")
    return found


def credential_problems(document: Any) -> list[str]:
    """How a ``com.apple.credential.usernameandpassword`` document departs from its schema."""
    found: list[str] = []
    if not isinstance(document, dict):
        return [f"the credential is a {type(document).__name__} (expected a dictionary)"]
    _dictionary(
        "credential",
        declaration_schema("com.apple.credential.usernameandpassword"),
        document,
        found,
    )
    return found
