r"""Building a user-defined model: declare inputs, a label, parameters, nodes and a loss; get a :class:`Model`.

The catalogue builds its models by hand from SymPy symbols; a user should not
have to.  :class:`ModelBuilder` takes names and formulas (text read by the safe
reader in ``expressions.py``, or SymPy expressions over the symbols it hands
out), checks them as they come, and :meth:`ModelBuilder.build` returns the
same kind of :class:`~symgrad.graph.Model` the catalogue makes, so that
``derive``, ``render``, code generation and the checker work on it unchanged::

    net = ModelBuilder("three-weight-chain")
    net.input("x"); net.label("y", latex="y^*"); net.params("w1 w2 w3")
    net.node("z1", "x * w1"); net.node("a1", "tanh(z1)"); …
    net.loss("Loss", "quadratic(a3, y)")
    model = net.build()

Names are Python-style identifiers; each becomes a symbol whose name is its
LaTeX (``w1`` → ``w_1``, or what ``latex=`` says), which is how the printers
write it and how an answer key must write it.  Every problem is a
:class:`ModelError` whose one line says where (``nodes.a1``, ``params``: the
same keys a model file uses) and, for a formula, the column.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Iterable

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.errors import UsageError
from symgrad.model.functions import one_hot_facts, softmax_rewrites
from symgrad.model.graph import Model, Node, Notation
from symgrad.notation.expressions import FUNCTIONS, ExpressionError, Scope, parse

#: How the built models write the sigmoid (as the network handout does: σ); each model gets its own copy.
DEFAULT_FUNCTION_NAMES = {"sigmoid": r"\sigma"}
DEFAULT_STEP_SIZE = "alpha"
#: Nodes a model may have: a chain of 50 layers (100 nodes) derives in about 5 s; a graph far larger is not a
#: course's model, and refusing it at once beats a derivation that runs for minutes.
MAX_NODES = 100
_MODEL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_SUBSCRIPTED = re.compile(r"([A-Za-z]+)(\d+)")
_DECLARED = re.compile(r"\s*([^\[\]]*?)\s*(?:\[([^\[\]]*)\])?\s*")


class ModelError(UsageError):
    """A model definition symgrad cannot use: ``key`` says where (``nodes.a1``), ``column`` where in a formula."""

    def __init__(self, reason: str, key: str | None = None, column: int | None = None) -> None:
        where = ", ".join(part for part in (key, f"column {column}" if column else None) if part)
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason
        self.key = key
        self.column = column


#: A description is one line of prose; it is printed into every output (a terminal, Markdown, LaTeX, a module).
MAX_DESCRIPTION = 300


def _check_description(description: str) -> None:
    """Refuse what a description has no need of: control characters (a terminal's escape sequences, a NUL),
    line breaks of any kind, invisible format characters, and length beyond a line or two of prose."""
    if len(description) > MAX_DESCRIPTION:
        raise ModelError(f"longer than {MAX_DESCRIPTION} characters; a description is a line of prose", "description")
    for position, character in enumerate(description, start=1):
        if unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            raise ModelError(f"character {position} is {_named(character)}; a description is one line of "
                             "printable text", "description")


def _named(character: str) -> str:
    return f"U+{ord(character):04X} ({unicodedata.name(character, 'a control character')})"


def default_latex(name: str) -> str:
    """The handout's way to write a name: trailing digits become a subscript (``w1`` → ``w_1``)."""
    match = _SUBSCRIPTED.fullmatch(name)
    return f"{match.group(1)}_{match.group(2)}" if match else name


def latex_symbol_name(latex: str, key: str) -> str:
    """The symbol name for LaTeX ``latex``: what the answer-key reader makes of it, so that keys match.

    ``w_{1}`` and ``w_1`` are one name; LaTeX that does not read as a single name is refused.
    """
    from symgrad.notation.latex import LatexParseError, parse_expression  # the key reader's own idea of a name

    if not isinstance(latex, str) or not latex.strip():
        raise ModelError("a LaTeX name must be a non-empty string", key)
    try:
        parsed = parse_expression(latex)
    except LatexParseError as error:
        raise ModelError(f"{latex!r} is not a LaTeX name symgrad can read back ({error})", key) from None
    if not isinstance(parsed, sp.Symbol):
        hint = "write a name of several letters as \\mathrm{…}"
        raise ModelError(f"{latex!r} reads as {parsed}, not as one name ({hint})", key)
    return parsed.name


def check_identifier(name: object, key: str, what: str) -> str:
    """A declared name must be a plain identifier that cannot be mistaken for Python or for a library function."""
    if not isinstance(name, str):
        raise ModelError(f"the {what} name must be a string, not {type(name).__name__}", key)
    if not name.isidentifier() or not name.isascii():
        raise ModelError(f"{name!r} is not an identifier (letters, digits and '_', not starting with a digit)", key)
    if name.startswith("_"):
        raise ModelError(f"{name!r} starts with '_'; model names cannot look like Python internals", key)
    if keyword.iskeyword(name):
        raise ModelError(f"{name!r} is a Python keyword", key)
    if name in FUNCTIONS:
        raise ModelError(f"{name!r} is the name of a library function ({FUNCTIONS[name].kind})", key)
    return name


class ModelBuilder:
    """Collects a model's declarations in forward order and builds the :class:`Model`.

    Each method returns the SymPy quantity it declared, so a caller may also
    write formulas as SymPy expressions: ``net.node("z1", x * w1)``.  Formulas
    given as text keep their written order when printed.

    Indexed layers: declare an index with its range (``net.index("j", "k")``:
    j = 1…k), then indexed names such as ``"w[i, j]"`` or a node ``"h[j]"``; a
    formula sums with ``sum(w[i, j] * x[i], i)`` and has ``softmax(z[j], l)``
    and ``softmax_cross_entropy(p[j], y[j], l)`` over a class index l.
    """

    def __init__(self, name: str, description: str = "", *, step_size: str = DEFAULT_STEP_SIZE,
                 step_size_latex: str | None = None, notation: Notation | None = None) -> None:
        if not isinstance(name, str) or not _MODEL_NAME.fullmatch(name):
            rule = "letters, digits, '-' and '_', starting with a letter"
            raise ModelError(f"{name!r} is not a model name ({rule})", "name")
        if not isinstance(description, str):
            raise ModelError("the description must be a string", "description")
        _check_description(description)
        self.name = name
        self.description = description or f"User-defined model {name}"
        self.notation = notation or Notation(functions=dict(DEFAULT_FUNCTION_NAMES))
        self._kinds: dict[str, str] = {}  # declared name → "input", "label", "parameter", "node", "loss", "index", …
        self._bases: dict[str, sp.Basic] = {}  # declared name → its Symbol, or IndexedBase for an indexed name
        self._ranks: dict[str, int] = {}  # indexed name → number of indices
        self._owners: dict[sp.Basic, str] = {}  # Symbol / IndexedBase → declared name
        self._written: dict[str, str] = {}  # printed name → declared name (two names may not print alike)
        self._indices: dict[str, tuple[sp.Symbol, int, sp.Expr]] = {}  # index name → (symbol, low, high)
        self._inputs: list[sp.Expr] = []
        self._params: list[sp.Expr] = []
        self._label: sp.Expr | None = None
        self._nodes: list[tuple[str, Node]] = []
        self._loss: Node | None = None
        self._step_size = self._declare(step_size, "step size", "step_size", step_size_latex)

    # ---- declarations ----------------------------------------------------
    def index(self, name: str, size: str | int, start: int = 1) -> sp.Symbol:
        """Declare an index running from ``start`` to ``size`` (a size name such as ``"k"``, or a number).

        The derivation is done once for the symbolic size; sizes are shared by name (j and l may both run to C).
        """
        key = f"indices.{name}" if isinstance(name, str) else "indices"
        check_identifier(name, key, "index")
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ModelError(f"an index starts at a whole number ≥ 0, not {start!r}", key)
        if isinstance(size, bool) or not isinstance(size, (int, str)):
            raise ModelError(f"a size is a name such as \"k\" or a whole number, not {size!r}", key)
        if isinstance(size, int):
            if size < start:
                raise ModelError(f"the range {start}…{size} is empty", key)
            high: sp.Expr = sp.Integer(size)  # a SymPy number, as a size symbol is: sizes.py reads .is_Integer
        elif size in self._kinds and self._kinds[size] == "size":
            high = self._bases[size]
        else:
            check_identifier(size, key, "size")
            high = self._declare(size, "size", key, None, integer=True, positive=True)
        assumptions = {"positive": True} if start >= 1 else {"nonnegative": True}
        symbol = self._declare(name, "index", key, None, integer=True, **assumptions)
        self._indices[name] = (symbol, start, high)
        return symbol

    def input(self, name: str, latex: str | None = None) -> sp.Expr:
        """Declare an input (a feature of one sample; ``"x[i]"`` for a vector of features)."""
        quantity = self._declare(name, "input", "inputs", latex)
        self._inputs.append(quantity)
        return quantity

    def inputs(self, names: str | Iterable[str]) -> tuple[sp.Expr, ...]:
        """Declare several inputs: ``"x1 x2"`` or a list of names."""
        return tuple(self.input(name) for name in _names(names, "inputs"))

    def label(self, name: str, latex: str | None = None) -> sp.Expr:
        """Declare the label (the target y; ``"y[j]"`` for a one-hot label); only the loss may use it."""
        if self._label is not None:
            raise ModelError(f"the label is already {self._name_of(self._label)!r}; a model has one label", "label")
        self._label = self._declare(name, "label", "label", latex)
        return self._label

    def param(self, name: str, latex: str | None = None) -> sp.Expr:
        """Declare a trainable parameter (``"w[i, j]"`` for a matrix); derivations and updates follow this order."""
        quantity = self._declare(name, "parameter", "params", latex)
        self._params.append(quantity)
        return quantity

    def params(self, names: str | Iterable[str]) -> tuple[sp.Expr, ...]:
        """Declare several parameters: ``"w1 w2 w3"``, ``"w[i, j] b[j]"`` or a list of names."""
        return tuple(self.param(name) for name in _names(names, "params"))

    def node(self, name: str, formula: str | sp.Expr, latex: str | None = None) -> sp.Expr:
        """A forward node ``name = formula`` over inputs, parameters and earlier nodes (``"h[j]"``: a layer)."""
        key = f"nodes.{name}" if isinstance(name, str) else "nodes"
        if self._loss is not None:
            raise ModelError("a node cannot come after the loss; the loss is the last node", key)
        if len(self._nodes) >= MAX_NODES:
            raise ModelError(f"a model has at most {MAX_NODES} nodes; this one would take minutes to derive", key)
        base, indices = self._split(name, key)
        expr = self._formula(formula, key, for_loss=False)
        self._check_free_indices(expr, indices, key)
        quantity = self._declare(name, "node", key, latex)
        self._nodes.append((base, Node(quantity, expr, softmax_rewrites(quantity, expr))))
        return quantity

    def loss(self, name: str, formula: str | sp.Expr, latex: str | None = None) -> sp.Symbol:
        """Declare the loss, the last node: it may use the label, and must depend on every parameter."""
        if self._loss is not None:
            raise ModelError(f"the loss is already {self._loss.symbol}; a model has one loss", "loss")
        check_identifier(name, "loss.name", "loss")
        expr = self._formula(formula, "loss.formula", for_loss=True)
        self._check_free_indices(expr, [], "loss.formula")
        symbol = self._declare(name, "loss", "loss.name", latex)
        self._loss = Node(symbol, expr)
        return symbol

    # ---- the model -------------------------------------------------------
    def build(self) -> Model:
        """The :class:`Model`; refuses a graph with a parameter, input or node that the loss never reaches."""
        if not self._inputs:
            raise ModelError("declare at least one input", "inputs")
        if self._label is None:
            raise ModelError("declare the label", "label")
        if not self._params:
            raise ModelError("declare at least one parameter", "params")
        if self._loss is None:
            raise ModelError("declare the loss", "loss")
        reaches = self._dependencies()
        used = reaches[self._loss.symbol]
        for name, _ in self._nodes:  # first: a dangling node explains the parameters it leaves unused
            if name not in used:
                raise ModelError("the loss never uses this node", f"nodes.{name}")
        for param in self._params:
            if self._name_of(param) not in used:
                raise ModelError(f"the loss does not depend on the parameter {self._name_of(param)!r}", "loss.formula")
        for param in self._params:
            self._check_one_way_to_the_loss(self._name_of(param), reaches)
        if self._name_of(self._label) not in used:
            raise ModelError(f"the loss does not use the label {self._name_of(self._label)!r}", "loss.formula")
        for quantity in self._inputs:
            if self._name_of(quantity) not in used:
                raise ModelError(f"the loss never uses the input {self._name_of(quantity)!r}", "inputs")
        return Model(
            name=self.name,
            description=self.description,
            inputs=tuple(self._inputs),
            label=self._label,
            params=tuple(self._params),
            nodes=(*(node for _, node in self._nodes), self._loss),
            step_size=self._step_size,
            notation=self.notation,
            index_ranges={symbol: (low, high) for symbol, low, high in self._indices.values()},
            assumptions=one_hot_facts(self._loss.value, self._label),
            vector_forms=self._vector_forms(),
        )

    def _vector_forms(self) -> dict[sp.Expr, sp.Symbol]:
        """x_i → **x** and w_i → **w**, as the catalogue's logistic regression has them, for a model of that
        shape: one input vector x_i and one weight vector w_i, met only in sums Σ_i w_i x_i over their
        common index.  Its derivation then also states the gradient vector ∇_w L = c·**x** and the vector
        update, and its code takes the inputs as the rows of a matrix X.  Any other use of an index (a
        second vector, a sum of x alone, w_j against x_i) keeps the components, which stay correct."""
        nodes = [node for _, node in self._nodes]
        if isinstance(self._label, sp.Indexed) or any(isinstance(node.symbol, sp.Indexed) for node in nodes):
            return {}
        inputs = [q for q in self._inputs if isinstance(q, sp.Indexed)]
        params = [q for q in self._params if isinstance(q, sp.Indexed)]
        if len(inputs) != 1 or len(params) != 1:
            return {}
        (x,), (w,) = inputs, params
        if len(x.indices) != 1 or x.indices != w.indices:
            return {}
        index = x.indices[0]
        sums = [total for node in (*nodes, self._loss) for total in node.expr.atoms(sp.Sum)]
        for total in sums:
            (variable, _, _), = total.limits if len(total.limits) == 1 else ((None, None, None),)
            factors = set(sp.Mul.make_args(total.function))
            if variable is None or factors != {w.base[variable], x.base[variable]}:
                return {}
        outside = [node.expr.xreplace({total: sp.S.Zero for total in sums}) for node in (*nodes, self._loss)]
        if not sums or any(e.has(x.base) or e.has(w.base) for e in outside) or index in sp.Add(*outside).free_symbols:
            return {}
        return {x: sp.Symbol(rf"\mathbf{{{x.base.name}}}"), w: sp.Symbol(rf"\mathbf{{{w.base.name}}}")}

    # ---- helpers ---------------------------------------------------------
    def _split(self, declared: str, key: str) -> tuple[str, list[sp.Symbol]]:
        """``"w[i, j]"`` → ``("w", [i, j])``; every index must already be declared."""
        if not isinstance(declared, str):
            raise ModelError(f"a name must be a string, not {type(declared).__name__}", key)
        match = _DECLARED.fullmatch(declared)
        if not match:
            raise ModelError(f"{declared!r} is not a name or an indexed name such as w[i, j]", key)
        base, subscript = match.group(1), match.group(2)
        if subscript is None:
            return base, []
        indices = []
        for index in (part.strip() for part in subscript.split(",")):
            if index not in self._indices:
                known = ", ".join(self._indices) or "none is declared"
                raise ModelError(f"{declared!r} uses {index!r}, which is not a declared index ({known})", key)
            indices.append(self._indices[index][0])
        if len(set(indices)) != len(indices):
            raise ModelError(f"{declared!r} repeats an index", key)
        return base, indices

    def _declare(self, declared: str, kind: str, key: str, latex: str | None, **assumptions: bool) -> sp.Expr:
        name, indices = self._split(declared, key)
        check_identifier(name, key, kind)
        if name in self._kinds:
            raise ModelError(f"{name!r} is already declared as the {self._kinds[name]} {name!r}", key)
        written = latex_symbol_name(latex, f"latex.{name}") if latex is not None else default_latex(name)
        if written in self._written:
            other = self._written[written]
            raise ModelError(f"{name!r} would be written {written!r}, like the {self._kinds[other]} {other!r}", key)
        base = sp.IndexedBase(written) if indices else sp.Symbol(written, **assumptions)
        self._kinds[name], self._bases[name], self._written[written], self._owners[base] = kind, base, name, name
        if indices:
            self._ranks[name] = len(indices)
            return base[tuple(indices)]
        return base

    def _name_of(self, quantity: sp.Expr) -> str:
        return self._owners[quantity.base if isinstance(quantity, sp.Indexed) else quantity]

    def _formula(self, formula: str | sp.Expr, key: str, for_loss: bool) -> sp.Expr:
        formula_kinds = ("input", "parameter", "node")
        available = {name: self._bases[name] for name, kind in self._kinds.items() if kind in formula_kinds}
        unavailable = {}
        if self._label is not None:
            label = self._name_of(self._label)
            if for_loss:
                available[label] = self._bases[label]
            else:
                unavailable[label] = "is the label; only the loss may use it"
        unavailable[self._name_of(self._step_size)] = "is the step size; it belongs to the update, not to the model"
        for name, kind in self._kinds.items():
            if kind == "size":
                unavailable[name] = "is a size; it bounds an index and is not a value"
        if isinstance(formula, str):
            ranks = {n: r for n, r in self._ranks.items() if n in available}
            scope = Scope(available, unavailable, ranks, self._indices)
            try:
                return parse(formula, scope)
            except ExpressionError as error:
                raise ModelError(error.reason, key, error.column) from None
        if isinstance(formula, bool) or not isinstance(formula, (int, float, sp.Expr)):
            raise ModelError(f"a formula is text or a SymPy expression, not {type(formula).__name__}", key)
        if isinstance(formula, (int, float)):
            return sp.Integer(formula) if isinstance(formula, int) else sp.Float(formula)
        self._check_sympy_names(formula, available, unavailable, key)
        return formula

    def _check_sympy_names(self, expr: sp.Expr, available: dict, unavailable: dict, key: str) -> None:
        known = set(available.values()) | {symbol for symbol, _, _ in self._indices.values()}
        known |= {base for name, base in self._bases.items() if self._kinds[name] == "size"}
        # SymPy counts the label of w in Σ_i w_i x_i as a free symbol of the sum: it names the declared w
        labels = {base.label: base for base in known if isinstance(base, sp.IndexedBase)}
        for item in sorted(expr.free_symbols, key=str):
            base = item.base if isinstance(item, sp.Indexed) else labels.get(item, item)
            if base in known:
                continue
            declared = self._owners.get(base)
            if declared in unavailable:
                raise ModelError(f"'{declared}' {unavailable[declared]}", key)
            raise ModelError(f"uses {base}, which is not a declared input, parameter or earlier node", key)

    def _check_free_indices(self, expr: sp.Expr, allowed: list[sp.Symbol], key: str) -> None:
        """An index left free in a formula must be one of the node's own (h[j] = σ(z[j])); others need a sum."""
        indices = {symbol for symbol, _, _ in self._indices.values()}
        for index in sorted((expr.free_symbols & indices) - set(allowed), key=str):
            raise ModelError(f"the index {index} is free in this formula: sum over it with sum(…, {index})"
                             f"{' or make this a layer node' if key.startswith('nodes.') else ''}", key)

    def _check_one_way_to_the_loss(self, param: str, reaches: dict[sp.Expr, set[str]]) -> None:
        """Refuse a loss that reads ``param`` itself and also through a node (an L2 penalty on a weight of the net).

        The derivation writes ∂L/∂w both for the gradient and for the chain's factor of the edge L → w (the
        loss's own slope in w, the nodes held fixed); with that edge beside other paths the two meanings
        collide and the chain rule cannot be stated.  The same term in a node of its own derives correctly.
        ``derive`` keeps the same rule, with the same message less the model file's key and example, as a
        backstop for a Model built without this builder; refusing here names the key and shows the fix.
        """
        direct = self._direct_names(self._loss.expr)
        through = [name for name, _ in self._nodes if name in direct and param in reaches[name]]
        if param in direct and through:
            raise ModelError(
                f"the loss uses the parameter {param!r} both directly and through the node {through[0]!r}; "
                f"the loss may read a parameter only one way: make the term with {param!r} a node of its own "
                f'(such as penalty = "0.01 * {param}^2") and use that node in the loss',
                "loss.formula",
            )

    def _direct_names(self, expr: sp.Expr) -> set[str]:
        """The declared names ``expr`` reads itself (not through a node)."""
        direct = {self._owners[s] for s in expr.free_symbols if s in self._owners}
        direct |= {self._owners[a.base] for a in expr.atoms(sp.Indexed) if a.base in self._owners}
        for application in expr.atoms(AppliedUndef):  # an abstract g(z) depends on z
            direct |= {self._owners[s] for s in application.free_symbols if s in self._owners}
        return direct

    def _dependencies(self) -> dict[sp.Expr, set[str]]:
        """Each node (by symbol) and its name → every declared name it depends on, directly or through earlier nodes."""
        reaches: dict = {}
        for name, node in [*self._nodes, (None, self._loss)]:
            direct = self._direct_names(node.expr)
            closure = set(direct)
            for used in direct:
                closure |= reaches.get(used, set())
            reaches[name if name is not None else node.symbol] = closure
        return reaches


def _names(names: str | Iterable[str], key: str) -> list[str]:
    if isinstance(names, str):  # "w1 w2", "w1, w2" or "w[i, j] b[j]"
        return re.findall(r"[^\s,\[\]]+(?:\s*\[[^\]]*\])?", names)
    try:
        return list(names)
    except TypeError:
        raise ModelError(f"expected names as text or a list, not {type(names).__name__}", key) from None
