"""Lazy re-exports: every name of a package's ``__all__`` imports, on first use only."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import types

import pytest

from compress.lazy import lazy_exports
from tests.conftest import ROOT


@pytest.mark.parametrize("package", ["compress", "simulator", "rtl"])
def test_every_export_resolves_and_is_listed(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        assert not isinstance(value, types.ModuleType), name
        assert name in dir(module)
    assert module.__all__ == sorted(module.__all__)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


def test_a_submodule_is_still_an_attribute_of_its_package():
    import compress

    assert compress.nm is sys.modules["compress.nm"]


# A function named as its module (compress.mvq.mvq) must win over the module, whichever
# is imported first; a fresh interpreter imports the module first.
PROBE = """
import json, sys, types
import compress.mvq, compress.integer_weights, compress.integer_layer
import compress
from compress import integer_layer, integer_weights, mvq
print(json.dumps([isinstance(f, types.FunctionType) for f in (
    mvq, integer_weights, integer_layer, compress.mvq, compress.integer_weights)]
    + ["compress.pipeline" in sys.modules]))
"""


def test_a_function_named_as_its_module_is_not_hidden_by_the_module():
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    *functions, pipeline_imported = json.loads(proc.stdout)
    assert functions == [True] * 5
    assert not pipeline_imported  # nothing asked for the pipeline


def test_exports_must_come_from_the_package_and_be_unique():
    with pytest.raises(ValueError, match="its own modules"):
        lazy_exports("compress", {"simulator.config": ("X",)})
    with pytest.raises(ValueError, match="exported from"):
        lazy_exports("compress", {"compress.nm": ("x",), "compress.mx": ("x",)})


def test_the_fine_tuning_rate_is_the_pipelines():
    from compress import pipeline, train

    assert pipeline.FINETUNE_LR == train.FINETUNE_LR
