"""The floors of ARCHITECTURE.md as a test: a module may import its own group and groups on
lower floors, never a group on its own floor or above. Function-level (lazy) imports count too:
a lazy import is still a dependency, it only moves the cost.

Arrows back up that exist today are listed in KNOWN_EXCEPTIONS, each with why it is there. A new
arrow fails the test; removing a listed one also fails it (the list must shrink with the debt)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("edgekd", "firmware_bridge", "export")

# Floor of each group; a group is the longest prefix listed here that names the module.
FLOORS: dict[str, float] = {
    # 0-1: foundation, imported by everyone (errors; version, registries, atomic writes, units)
    "edgekd.errors": 0,
    "edgekd": 1, "edgekd.registry": 1, "edgekd.atomic": 1, "edgekd.units": 1,
    "edgekd.extras": 1, "edgekd.provenance": 1,  # which extra a module needs; git/versions
    # 2: signal processing, numpy/scipy only
    "edgekd.signal": 2,
    # 3: confidence rejection and majority vote (numpy only): the live path runs it and the
    # offline scoring replays it
    "edgekd.decision_policy": 3,
    # 3.5: metrics of a decision stream against per-sample labels (numpy + edgekd.signal)
    "edgekd.control_metrics": 3.5,
    # 4: side by side, never importing each other
    "edgekd.data": 4, "edgekd.models": 4, "edgekd.plots": 4, "edgekd.profiling": 4,
    "firmware_bridge": 4,
    "export": 4,  # the torch-free runtime, metadata, formats and the per-backend exporters
    # 5-6: training, then distillation (a distillation is a training task)
    "edgekd.train": 5, "edgekd.model_catalog": 5,  # the catalog builds models to count them
    "edgekd.distill": 6,
    # 7: what consumes a trained run or an artifact
    "export.pipeline": 7, "export.c": 7, "edgekd.live_model": 7,
    # 8-10: orchestration, the CLI, ``python -m edgekd``
    "edgekd.bench": 8, "edgekd.demo": 8,
    "edgekd.cli": 9, "edgekd.__main__": 10,
}

# export.pipeline and export.c build one artifact together (the C target is one format of the
# export table), so they count as one group.
SAME_GROUP = {("export.pipeline", "export.c"), ("export.c", "export.pipeline")}

# (importing module, imported module): arrows back up that exist today. Debt, not design.
KNOWN_EXCEPTIONS = {
    # issue 14 item 2: training should be handed the distillation task factory by its caller;
    # today train/run.py builds it itself when the config has a kd section.
    ("edgekd.train.run", "edgekd.distill.setup"),
    # issue 14 item 2: KDConfig lives in train/config.py and checks the loss name against the
    # distillation loss registry; it should move to edgekd.distill.
    ("edgekd.train.config", "edgekd.distill.losses"),
}


def group(module: str) -> str:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        # "edgekd" is the package's own __init__ only: a new edgekd module must get a floor
        if prefix in FLOORS and (prefix != "edgekd" or module == "edgekd"):
            return prefix
    raise KeyError(f"{module}: no floor in FLOORS (add its group to tests/unit/test_layers.py "
                   "and to ARCHITECTURE.md)")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, module: str) -> set[str]:
    """Every project module that ``path`` imports, at any depth in the file."""
    is_pkg = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                names = [".".join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module]
        else:
            continue
        found.update(n for n in names if n and n.split(".")[0] in PACKAGES)
    return found


def import_edges() -> list[tuple[str, str]]:
    edges = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            module = _module_name(path)
            edges += [(module, target) for target in sorted(_imported(path, module))]
    return edges


def violations() -> set[tuple[str, str]]:
    bad = set()
    for src, dst in import_edges():
        gs, gd = group(src), group(dst)
        if gs == gd or (gs, gd) in SAME_GROUP:
            continue
        if FLOORS[gd] >= FLOORS[gs]:
            bad.add((src, dst))
    return bad


def test_every_module_has_a_floor():
    for src, dst in import_edges():
        group(src), group(dst)


def test_no_new_arrow_back_up():
    new = violations() - KNOWN_EXCEPTIONS
    assert not new, "imports against the floors of ARCHITECTURE.md: " + ", ".join(
        f"{s} -> {d} ({group(s)} floor {FLOORS[group(s)]}, {group(d)} floor {FLOORS[group(d)]})"
        for s, d in sorted(new))


def test_known_exceptions_still_exist():
    gone = KNOWN_EXCEPTIONS - violations()
    assert not gone, f"remove these from KNOWN_EXCEPTIONS (and ARCHITECTURE.md): {sorted(gone)}"


@pytest.mark.parametrize("src,dst", [
    ("edgekd.signal.filters", "edgekd.data.recording"),      # signal -> data
    ("edgekd.train.loop", "edgekd.distill.task"),            # train -> distill
    ("firmware_bridge.runner", "export.runtime"),            # firmware_bridge -> export
    ("firmware_bridge.runner", "edgekd.data.recording"),     # side by side on floor 4
    ("edgekd.data.prepare", "edgekd.train.loop"),            # data -> train
])
def test_the_rule_catches_an_arrow_back_up(src, dst):
    """The rule itself can fail: these arrows would be reported."""
    gs, gd = group(src), group(dst)
    assert gs != gd and FLOORS[gd] >= FLOORS[gs]
