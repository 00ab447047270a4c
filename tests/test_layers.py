"""The package's stages import downward only, and no module imports itself back in a circle.

Every ``import`` counts, also those inside functions (deferred for start-up time, they are
dependencies all the same). A module may import its own stage and the stages below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autoconfig"

STAGES = {
    "autoconfig": 0,
    "autoconfig.profiles": 1,
    "autoconfig.usernames": 2,
    "autoconfig.formats": 3,
    "autoconfig.signing": 3,
    "autoconfig.service": 4,
    "autoconfig.web": 5,
    "autoconfig.doctor": 5,
    "autoconfig.server": 6,
    "autoconfig.cli": 7,
    "autoconfig.__main__": 8,
}
"""The flow of DESIGN.md, bottom to top: what every stage shares (the modules at the root not
named here: errors, address, model, settings); profiles → catalog; the login
directory; the client formats (and the signing of one of them); the service that joins them;
the consumers of the service (HTTP, the doctor); how ``serve`` runs; the command line."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def stage_of(module: str) -> tuple[str, int]:
    """The stage a module belongs to: the longest prefix of its name in :data:`STAGES`."""
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        name = ".".join(parts[:length])
        if name in STAGES:
            return name, STAGES[name]
    raise AssertionError(f"{module} belongs to no stage: add it to STAGES")


def imports_of(module: str) -> set[str]:
    """The project modules ``module`` imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    own_packages = {module.rsplit(".", n)[0] for n in range(1, module.count(".") + 1)}
    return {name for name in found if name in MODULES and name not in own_packages | {module}}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_downward_only(module: str) -> None:
    stage, rank = stage_of(module)
    upward = [
        name
        for name in sorted(imports_of(module))
        if stage_of(name)[0] != stage and stage_of(name)[1] >= rank
    ]
    assert upward == [], f"{module} ({stage}) imports a stage at its level or above"


def test_no_import_circle() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    state: dict[str, str] = {}
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for name in sorted(graph[module]):
            if state.get(name) == "open":
                circles.append([*path[path.index(name) :], name])
            elif name not in state:
                visit(name, [*path, name])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_every_module_has_a_stage() -> None:
    for module in MODULES:
        stage_of(module)
