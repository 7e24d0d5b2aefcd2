"""symgrad: derive the gradients of small ML models with SymPy, print them as the handouts do,
generate NumPy update code from them, and check answer keys against them.

The public names load on first use (PEP 562), so that ``import symgrad`` and the command line start
without SymPy and NumPy: ``symgrad --help`` and ``symgrad list`` answer at once, and each command
loads what it needs.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Each public name and the module that defines it.
_EXPORTS = {
    "ModelBuilder": "catalogue.build", "ModelError": "catalogue.build",
    "Derivation": "derivation.steps", "Equation": "derivation.steps", "Result": "derivation.steps",
    "Step": "derivation.steps",
    "derive": "derivation.derive", "derive_sigmoid_identity": "derivation.derive",
    "relu": "model.functions", "sigmoid": "model.functions",
    "Model": "model.graph", "Node": "model.graph", "Notation": "model.graph", "Partial": "model.graph",
    "ModelFileError": "catalogue.modelfile", "load_model_file": "catalogue.modelfile",
    "parse_model_file": "catalogue.modelfile",
    "CATALOGUE": "catalogue.models", "derive_named": "catalogue.models", "lookup": "catalogue.models",
    "catalogue_names": "catalogue.names",
    "render": "rendering.render",
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
