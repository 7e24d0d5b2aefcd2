"""Code generation: each model's derivation becomes a NumPy module.

derivation → ``lower`` (forward nodes, one CSE over the loss and all gradients, batch reductions)
→ ``context`` (SymPy's NumPy printer, extended in ``printer.py``) → a Jinja template from
``templates/numpy/`` → ``generated/<model>.py``.  Every formula comes from the derivation.

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
