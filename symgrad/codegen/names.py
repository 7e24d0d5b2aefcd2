"""Python names for a model's quantities: derived from the handout's names, then checked.

The handouts name things in LaTeX (``a_1``, ``y^*``, ``\\gamma``, ``\\mathbf{x}``); generated code
needs identifiers.  The rule is mechanical, so that a reader can map one onto the other:

- unwrap ``\\mathbf{…}`` and drop Greek backslashes: ``\\gamma`` → ``gamma``;
- drop the label's star: ``y^*`` → ``y`` (the star marks the target, not another quantity);
- drop subscript marks and braces: ``a_1`` → ``a1``, ``w_{12}`` → ``w12``;
- a vector input is a matrix with one sample per row, so it takes a capital: ``\\mathbf{x}`` → ``X``;
  so do a layer of units and a one-hot label: h_j → ``H``, y_l → ``Y``;
- two roles have fixed names: the loss is ``loss`` and the step size is ``lr`` (the interface's name).

Every name is checked *before* anything is written: it must be an identifier, not a keyword, not a
Python builtin, not a name the template itself uses, not one that ``ruff`` rejects as ambiguous
(``l``, ``O``, ``I``), and no two quantities may share one.  A failure is one line for the user.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass

import sympy as sp

from symgrad.errors import UsageError
from symgrad.model.graph import Model
from symgrad.rendering.printing import printers_for

#: Names the NumPy template defines or uses itself; a model quantity may not take one of them.
TEMPLATE_NAMES = frozenset({
    "np", "PARAMS", "init_params", "forward", "loss", "gradient", "loss_and_gradient", "update",
    "params", "rng", "lr", "grads", "_floating", "hidden",
    # the block loop (performance): its helpers and their local names
    "_as", "_blockwise", "_gradient_sums", "_loss_and_gradient_sums", "_BLOCK_BYTES", "_BLOCK_ROWS",
    "sums", "parts", "part", "totals", "total", "block", "start", "array", "dtype", "function", "arrays",
    "_sigmoid", "values", "_label", "classes", "shape", "_rows_known", "name",
    "_logsumexp", "top", "axis",  # layers: the softmax's helper
    # the argument checks (templates/common/arguments.py.jinja); their locals live in the helpers' own scopes
    "_data", "_param", "_number", "_gradient", "_numbers", "_shaped", "_KEYS", "_SCALARS", "sizes",
})

#: The names a Numba module (templates/numba/) uses beside the NumPy module's: its imports, helpers,
#: loop indices and totals.  Only a model generated for that target must avoid them.
NUMBA_TEMPLATE_NAMES = TEMPLATE_NAMES | frozenset({
    "math", "os", "sys", "numba", "n", "chunk", "chunks", "samples", "stop", "run", "out", "_mean", "_chunks",
    "_exp", "_row_dot", "_add_row", "_kernel", "_scalar", "_CACHE", "_CHUNK", "_divide", "_mean_row", "means",
    "_heaviside", "_shaped", "name", "_number", "value", "dots", "r", "rows", "block_rows", "real", "_PART",
    "first", "sample", "_block_dots", "_block_sum", "_inline",
    "_block_rows", "_BLOCK_BYTES", "_MAX_ROWS", "_LONG_ROW", "_PRANGE_ONLY",
    # the runs shared out over the threads, summed in their order, on the cores other processes leave free
    "_chunk_of", "_forward_run", "threads", "done", "teams", "team", "step", "_total", "_total_row",
    "time", "_parallel", "_numba_threads", "_free_threads", "_ticks", "_LOOK", "_PROC", "_looked", "_free",
})

#: The names a PyTorch module (templates/torch/) uses: its import, helpers and locals.
TORCH_TEMPLATE_NAMES = frozenset({
    "torch", "PARAMS", "init_params", "forward", "loss", "gradient", "loss_and_gradient", "update", "params",
    "rng", "generator", "lr", "grads", "hidden", "sizes", "_tensor", "_data", "_sizes", "_param", "value", "name",
    "dtype", "dims", "tensor", "error", "shape", "wanted", "key",
})

#: The Numba template's numbered totals (``total0``, ``totals1``, ``part2``, ``row_terms3``).  The loops over a
#: sample's units name their indices and partial sums with a leading underscore (``_j``, ``_sum1``), which no
#: model quantity's name has (:func:`identifier` drops underscores); ``unit_loops.loop_names`` keeps them apart
#: from the helpers'.
NUMBA_TEMPLATE_NUMBERED = re.compile(r"(total|totals|part|row_part|row_terms)\d+")

#: Each code-generation target, and what its module's file name adds to the model's.
TARGETS = {"numpy": "", "numba": "_numba", "torch": "_torch"}


def module_name(name: str, target: str = "numpy") -> str:
    """The module for model ``name``: ``two-weight-chain`` → ``two_weight_chain`` (``…_numba``, ``…_torch``)."""
    module = name.replace("-", "_")
    if not module.isidentifier():
        raise UsageError(f"cannot generate {name}: {module!r} is not a Python module name")
    return module + TARGETS[target]


#: Names that ``ruff`` (E741) rejects as easy to misread.
AMBIGUOUS = frozenset({"l", "O", "I"})

#: The name of the number of samples in shapes: the argument checks' (N, k), and the docstrings'.
SAMPLES = "N"

#: The fixed names of two roles.
LOSS_NAME = "loss"
STEP_NAME = "lr"

_WRAPPERS = re.compile(r"\\(?:mathbf|mathrm|boldsymbol|bm|operatorname|vec)\{([^{}]*)\}")


@dataclass(frozen=True)
class Name:
    """One quantity of the model under its Python name.

    ``aliases`` are the SymPy objects that stand for it (``x_j``, the base ``x`` and the vector
    ``\\mathbf{x}`` are one quantity); ``handout`` is how the handout's text printer writes it.
    """

    python: str
    handout: str
    role: str
    aliases: tuple[sp.Basic, ...]


def identifier(latex_name: str, capital: bool = False) -> str:
    """The Python name for a handout (LaTeX) name; it is checked later, not here."""
    text = _WRAPPERS.sub(r"\1", latex_name)
    text = re.sub(r"\^\{?\*\}?", "", text)
    text = text.replace("\\", "").replace("{", "").replace("}", "").replace("_", "")
    return text[:1].upper() + text[1:] if capital else text


def _latex_name(quantity: sp.Basic) -> str:
    if isinstance(quantity, sp.Indexed):
        return quantity.base.name
    return quantity.name


def model_names(model: Model) -> list[Name]:
    """Every quantity the generated code names, in model order: inputs, label, parameters, nodes, step size."""
    _, text = printers_for(model)
    names: list[Name] = []

    def vector_aliases(quantity: sp.Basic) -> tuple[sp.Basic, ...]:
        if isinstance(quantity, sp.Indexed):
            vector = model.vector_forms.get(quantity)
            return tuple(a for a in (quantity, quantity.base, vector) if a is not None)
        return (quantity,)

    for quantity in model.inputs:
        shown = model.vector_forms.get(quantity, quantity)
        vector = isinstance(quantity, sp.Indexed)
        python = identifier(_latex_name(quantity), capital=vector)
        names.append(Name(python, text.doprint(shown), "input", vector_aliases(quantity)))
    label = model.label
    label_python = identifier(_latex_name(label), capital=isinstance(label, sp.Indexed))  # a one-hot y_l is Y
    names.append(Name(label_python, text.doprint(label), "label", vector_aliases(label)))
    for quantity in model.params:
        shown = model.vector_forms.get(quantity, quantity)
        python = identifier(_latex_name(quantity))
        names.append(Name(python, text.doprint(shown), "parameter", vector_aliases(quantity)))
    for node in model.forward_nodes:
        layer = isinstance(node.symbol, sp.Indexed)  # a layer of units h_j is one array H, a row per sample
        python = identifier(_latex_name(node.symbol), capital=layer)
        names.append(Name(python, text.doprint(node.symbol), "node", vector_aliases(node.symbol)))
    for dimension in sorted(_dimensions(model), key=sp.default_sort_key):
        names.append(Name(identifier(dimension.name), text.doprint(dimension), "dimension", (dimension,)))
    names.append(Name(LOSS_NAME, text.doprint(model.loss.symbol), "loss", (model.loss.symbol,)))
    names.append(Name(STEP_NAME, text.doprint(model.step_size), "step size", (model.step_size,)))
    return names


def _dimensions(model: Model) -> set[sp.Symbol]:
    """The symbolic sizes of the model's sums (k in Σ_{i=1}^{k}), which become the data's feature dimension."""
    sizes: set[sp.Symbol] = set()
    for node in model.nodes:
        for total in node.value.atoms(sp.Sum):
            for _, _, upper in total.limits:
                sizes |= upper.free_symbols
    return sizes


def check_names(
    model_name: str, names: list[Name], reserved: frozenset[str] = TEMPLATE_NAMES, numbered: re.Pattern | None = None
) -> None:
    """Refuse, with one line, any name that is not a safe, unique Python identifier, or that the
    target's template uses itself (``reserved``, and names matching ``numbered``)."""
    seen: dict[str, Name] = {}
    for name in names:
        problem = None
        fixed_role = name.role in ("loss", "step size")
        if not name.python.isidentifier():
            problem = "is not a Python identifier"
        elif keyword.iskeyword(name.python):
            problem = "is a Python keyword"
        elif name.python in dir(builtins):
            problem = "would shadow the Python builtin of that name"
        elif name.python in AMBIGUOUS:
            problem = "is ambiguous (ruff E741: l, O and I read as 1 and 0)"
        elif (name.python in reserved or (numbered and numbered.fullmatch(name.python))) and not fixed_role:
            problem = "is a name the generated module uses itself"
        elif name.role == "dimension" and name.python == SAMPLES:
            problem = "is the number of samples in the module's shapes (N,) and (N, k)"
        elif name.python in seen:
            other = seen[name.python]
            problem = f"is also the name of the {other.role} {other.handout!r}"
        if problem:
            quantity = f"the {name.role} {name.handout!r} would be named {name.python!r}"
            raise UsageError(f"cannot generate {model_name}: {quantity}, which {problem}")
        seen[name.python] = name


def symbol_map(names: list[Name]) -> dict[sp.Basic, sp.Symbol]:
    """Each SymPy alias → a plain symbol carrying its Python name (what the printers print)."""
    return {alias: sp.Symbol(name.python) for name in names for alias in name.aliases}
