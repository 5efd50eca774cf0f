"""Lazy re-exports for a package's ``__init__``.

A package that re-exports names from its modules imports all of them, and their
dependencies, as soon as any part of it is imported: ``import compress.errors`` would
import every compression algorithm, ``import simulator.cli`` the model, the reports and
the sweep engine. :func:`lazy_exports` makes the package import the module that holds a
name when the name is first used instead (a module ``__getattr__``, on the package's
class as the data model allows, so that it can also keep a function named as its
module from being hidden when the module is imported), so
``from compress import kmeans_scalar`` still works and costs only what it uses::

    __all__ = lazy_exports(__name__, {
        "compress.kmeans": ("kmeans_scalar", "kmeans_vectors"),
    })

Used by the ``__init__`` of compress, simulator and rtl.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Make ``package`` import each of its exports from its module on first use.

    Parameters
    ----------
    package
        The package's ``__name__``; called from its ``__init__``.
    exports
        Module (``package.module``) to the names the package re-exports from it.

    Returns
    -------
    list of str
        The package's ``__all__``: every export, sorted.
    """
    where: dict[str, str] = {}
    for module, names in exports.items():
        if not module.startswith(package + "."):
            raise ValueError(f"{package} can re-export from its own modules only, not {module!r}")
        for name in names:
            if name in where:
                raise ValueError(f"{package}.{name} is exported from {where[name]} and {module}")
            where[name] = module
    namespace = sys.modules[package]
    namespace._lazy_exports = where  # before the class, whose __setattr__ reads it
    namespace.__class__ = _LazyPackage
    return sorted(where)


class _LazyPackage(types.ModuleType):
    """A package whose exports are imported from their modules on first use."""

    _lazy_exports: dict[str, str]

    def __getattr__(self, name: str) -> object:
        module = self._lazy_exports.get(name)
        if module is None:
            return _submodule(self.__name__, name)
        value = getattr(importlib.import_module(module), name)
        setattr(self, name, value)
        return value

    def __setattr__(self, name: str, value: object) -> None:
        # Importing a submodule binds it to the package's attribute of its name. Where the
        # package exports a function of that name (compress.mvq), the function wins, as it
        # did when the package imported every export eagerly.
        submodule = (
            isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
        )
        if not (submodule and name in self._lazy_exports):
            super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._lazy_exports})


def _submodule(package: str, name: str) -> types.ModuleType:
    """``package.name`` as a submodule (an eager ``__init__`` had imported them all)."""
    full = f"{package}.{name}"
    if name.startswith("__"):
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name != full:
            raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
