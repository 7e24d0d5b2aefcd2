"""Code generation: each model's derivation becomes a NumPy, a Numba and a PyTorch module.

derivation → ``lower`` (one lowering for every model: index notation → array nodes, one CSE over the
loss and all gradients, batch means) → a ``Plan`` → each target's context, printed by its printer
(``printer.py``: SymPy's NumPy printer, extended) → a Jinja template from ``templates/<target>/`` →
``generated/<model>[_numba|_torch].py``.  Every formula comes from the derivation.

    generate_source("two-weight-chain")   # the module as a string
    generate()                            # every model into generated/
    generate(check=True)                  # what is stale, writing nothing
"""

from symgrad.codegen.pipeline import (
    DEFAULT_OUT,
    GeneratedFile,
    generatable_names,
    generate,
    generate_source,
    module_name,
    skipped,
)

__all__ = ["DEFAULT_OUT", "GeneratedFile", "generatable_names", "generate", "generate_source", "module_name", "skipped"]
