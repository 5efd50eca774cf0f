"""Dependencies run one way: compress -> simulator -> rtl. Nothing imports rtl."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

FORBIDDEN = {
    "compress": {"simulator", "rtl"},
    "simulator": {"rtl"},
    "rtl": set(),
}


def imported_packages(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0], node.lineno


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependency_direction(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"package {package} has no modules"
    violations = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for name, line in imported_packages(path)
        if name in FORBIDDEN[package]
    ]
    assert violations == []


def test_the_check_sees_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import rtl.array\nfrom simulator.config import X\nfrom . import y\n")
    assert sorted(imported_packages(probe)) == [("rtl", 1), ("simulator", 2)]


# Inside the simulator, layers import only downwards: the config, then workloads, the
# model, results, reports, and the applications on top (the co-design loop, sweeps, whose
# recipe axis compresses models through the loop's inputs, the demo, the CLI).
SIMULATOR_LAYERS = {
    "config": 0,
    "workloads": 1,
    "model": 2,
    "results": 3,
    "reports": 4,
    "codesign": 5,
    "sweep": 6,
    "demo": 7,
    "cli": 7,
}


def simulator_layer(module: str) -> str | None:
    """``simulator.model.timing`` -> ``model``; the package itself (``simulator``) -> None."""
    parts = module.split(".")
    return parts[1] if parts[0] == "simulator" and len(parts) > 1 else None


def imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def test_simulator_layers_import_only_downwards():
    violations = []
    for path in sorted((ROOT / "simulator").rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        own = simulator_layer(".".join(relative.parts))
        if own is None or own == "__init__":
            continue
        assert own in SIMULATOR_LAYERS, f"{path}: unknown simulator layer {own!r}"
        for module, line in imported_modules(path):
            if module == "simulator":
                violations.append(f"{relative}:{line} imports the whole simulator package")
                continue
            theirs = simulator_layer(module)
            if theirs is not None and SIMULATOR_LAYERS[theirs] > SIMULATOR_LAYERS[own]:
                violations.append(f"{relative}:{line} ({own}) imports {module} ({theirs})")
    assert violations == []


def test_reports_render_results_without_the_model():
    """A report renders a SimResult; it never imports (or re-runs) the model."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "simulator" / "reports").rglob("*.py"))
        for module, line in imported_modules(path)
        if simulator_layer(module) == "model"
    ]
    assert offenders == []


def test_the_layer_check_sees_upward_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from simulator.reports.markdown import x\nimport simulator.model.timing\n")
    found = [simulator_layer(module) for module, _ in imported_modules(probe)]
    assert found == ["reports", "model"]
    assert SIMULATOR_LAYERS["reports"] > SIMULATOR_LAYERS["model"]
