"""symgrad: derive the gradients of small ML models with SymPy, print them as the handouts do,
generate NumPy update code from them, and check answer keys against them.

The public names load on first use (PEP 562), so that ``import symgrad`` and the command line start
without SymPy and NumPy: ``symgrad --help`` and ``symgrad list`` answer at once, and each command
loads what it needs.
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

#: Each public name and the module that defines it.
_EXPORTS = {
    "ModelBuilder": "build", "ModelError": "build",
    "Derivation": "derivation", "Equation": "derivation", "Result": "derivation", "Step": "derivation",
    "derive": "derive", "derive_sigmoid_identity": "derive",
    "relu": "functions", "sigmoid": "functions",
    "Model": "graph", "Node": "graph", "Notation": "graph", "Partial": "graph",
    "ModelFileError": "modelfile", "load_model_file": "modelfile", "parse_model_file": "modelfile",
    "CATALOGUE": "models", "derive_named": "models", "lookup": "models",
    "catalogue_names": "catalogue",
    "render": "render",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _Package(types.ModuleType):
    """``symgrad.derive`` and ``symgrad.render`` are functions that share their names with the modules that
    define them.  Importing such a module sets the package's attribute to the module; this keeps the function,
    as the eager imports of earlier versions did.  The modules stay importable by their full names."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
