"""The model a key defines: its forward pass, its loss and its activations, read from its own formulas and prose.

A key states its model before it differentiates it: ``z_1 = x w_1``, ``a_1 = \\tanh(z_1)``,
``L = \\frac12 (a_2 - y)^2``, ``g(z) = \\frac{1}{1+e^{-z}}``, and in prose "g₁ and g₂ are sigmoids",
"linear units", "with the squared loss".  This module reads those statements and builds the
:class:`~symgrad.graph.Model` they describe with the same :class:`~symgrad.build.ModelBuilder` that
model files use, so that the key's claims are judged against the key's own model, not a catalogue
model it merely resembles.

Three pieces:

* :func:`definition_in` tells a definition (a named quantity set equal to a formula without
  derivatives) from a claim, and a function's definition (``σ(z) = 1/(1 + e^{-z})``) from a node's;
* :func:`read_bindings` finds the plain-English bindings in the key's prose;
* :class:`KeyModel` turns a section's definitions, bindings and the quantities its claims
  differentiate by into a model: the parameters are what the key differentiates the loss by or
  updates, the label is what the loss reads besides the network, the inputs are the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.catalogue.build import ModelBuilder, ModelError, latex_symbol_name
from symgrad.catalogue.names import ACTIVATION_NAMES
from symgrad.derivation.identity import Unsupported, sides_agree
from symgrad.model.functions import ACTIVATIONS, relu, sigmoid, softmax, softplus
from symgrad.model.graph import Model, Partial

#: Names a key gives its loss.
LOSS_NAMES = frozenset({"L", "Loss", "J", "E", "C", "ell", "mathcal{L}", "\\mathcal{L}", "\\ell", "l", "Cost"})
#: Names of functions that mean one library function whatever the key says around them.
KNOWN_FUNCTIONS = {"sigma": sigmoid, "sigmoid": sigmoid, "s": sigmoid, "sigm": sigmoid, "logistic": sigmoid,
                   "tanh": sp.tanh, "relu": relu, "ReLU": relu,
                   "softplus": softplus, "exp": sp.exp, "log": sp.log, "ln": sp.log}
#: Names a key gives an activation it may leave unnamed or bind later (g, g_1, s, f, φ).
ACTIVATION_LETTERS = re.compile(r"(g|s|f|phi|varphi|sigma|h|a)(_\{?\d+\}?)?$")
#: Letters a key uses for the label, the inputs and the parameters, when nothing else tells.
LABEL_NAME = re.compile(r"(y|t)(\^\*|\^\{\*\})?(_.*)?$")
INPUT_NAME = re.compile(r"(x|\\mathbf\{x\})(_.*)?$")
PARAMETER_NAME = re.compile(r"(w|W|b|v|c|theta|beta|u|U|V|\\mathbf\{w\}|\\theta|\\boldsymbol\{\\theta\})(_.*)?$")
#: Step sizes by how surely the name is one: ε or λ may be an error term or a penalty's weight.
STEP_PREFERENCE = ("eta", "alpha", "mu", "lambda", "epsilon")
#: Index letters: a name whose subscript is made of them is an entry of a layer (w_ij → w[i, j]).
INDEX_LETTERS = "ijklmnpq"
#: Default sizes for an index the key sums over without limits: inputs i → m, units j → k, classes l (or c) → C.
DEFAULT_SIZES = {"i": "m", "j": "k", "l": "C", "c": "C", "k": "K", "q": "C", "m": "M", "n": "N", "p": "P"}


class KeyModelError(ValueError):
    """The key's definitions do not make a model symgrad can derive; the message says why, in one line."""


# ---- definitions ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Definition:
    """``target = value`` as the key states it: a node (``kind="node"``) or a function of ``arguments``."""

    line: int
    target: sp.Expr
    value: sp.Expr
    kind: str = "node"
    arguments: tuple[sp.Symbol, ...] = ()

    @property
    def name(self) -> str:
        return _written_name(self.target)


def _written_name(target: sp.Expr) -> str:
    if isinstance(target, sp.Indexed):
        return str(target.base)
    if isinstance(target, AppliedUndef):
        return type(target).__name__
    return str(target)


def definition_in(lhs: sp.Expr | None, rhs: sp.Expr, relation: str, line: int) -> Definition | None:
    """The definition ``lhs = rhs`` states, or None when it is a claim to judge (a derivative, an update,
    a number for a quantity, a restatement of an expression)."""
    if lhs is None or relation != "=" or _has_derivative(lhs) or _has_derivative(rhs):
        return None
    if not rhs.free_symbols or rhs.is_number:
        return None  # a number: a given or worked value
    if isinstance(lhs, AppliedUndef):
        if any(type(a).__name__ == type(lhs).__name__ for a in rhs.atoms(AppliedUndef)):
            return None  # Loss(a_2, y) = Loss(g_2(w_2 g_1(w_1 x)), y): the composed form of a function, a claim
        arguments = lhs.args
        if type(lhs).__name__ in KNOWN_FUNCTIONS or type(lhs).__name__ in ("s", "g"):
            if not (all(isinstance(a, sp.Symbol) for a in arguments) and rhs.free_symbols <= set(arguments)):
                return None  # σ(z) = 1/(1 + e^{-x}): the sigmoid's definition in the wrong variable, a claim
        if all(isinstance(a, sp.Symbol) for a in arguments) and rhs.free_symbols <= set(arguments):
            if ACTIVATION_LETTERS.match(type(lhs).__name__) or len(arguments) == 1 and not _is_loss_name(lhs):
                return Definition(line, lhs, rhs, "function", tuple(arguments))
        return Definition(line, lhs, rhs)  # h(x) = σ(w·x), Loss(a_2, y) = ½(a_2 - y)²: a node written with its inputs
    index_like = isinstance(rhs, sp.Symbol) and rhs.name in INDEX_LETTERS or rhs.is_integer
    if isinstance(lhs, sp.Symbol) and (lhs.is_integer or (lhs.name in INDEX_LETTERS and index_like)):
        return None  # l = k: a condition on indices
    if isinstance(lhs, sp.Symbol) and isinstance(rhs, sp.Symbol) and rhs.name in KNOWN_FUNCTIONS:
        return Definition(line, lhs, rhs, "function")  # g = σ: g is the sigmoid
    if isinstance(lhs, (sp.Symbol, sp.Indexed)) and not _reads_itself(lhs, rhs):
        return Definition(line, lhs, rhs)
    return None


def _has_derivative(expr: sp.Expr) -> bool:
    return expr.has(Partial, sp.Derivative, sp.Subs)


def _reads_itself(lhs: sp.Expr, rhs: sp.Expr) -> bool:
    """``w = w - η ∂L/∂w``: an update written with '=', not a definition."""
    base = lhs.base if isinstance(lhs, sp.Indexed) else lhs
    return rhs.has(base)


def _is_loss_name(expr: sp.Expr) -> bool:
    return _written_name(expr) in LOSS_NAMES


# ---- prose bindings ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Binding:
    """What a sentence of prose says about the model: an activation for some functions (all when
    ``functions`` is empty), or the loss."""

    line: int
    activation: str | None = None
    loss: str | None = None
    functions: tuple[str, ...] = ()
    where: str = ""  # "hidden" or "output" when the prose says which layer
    step: str | None = None  # "with step size $\eta$": the name of the step size
    conditions: tuple[sp.Basic, ...] = ()  # "for $l \ne k$,": where the claim after it holds


_ACTIVATION_WORDS = {
    "sigmoid": "sigmoid", "sigmoids": "sigmoid", "logistic function": "sigmoid", "logistic activation": "sigmoid",
    "tanh": "tanh", "hyperbolic tangent": "tanh",
    "relu": "relu", "rectified linear": "relu", "relus": "relu",
    "softplus": "softplus",
    "linear": "identity", "identity": "identity",
}
_LOSS_WORDS = {
    "squared loss": "quadratic", "squared error": "quadratic", "square loss": "quadratic",
    "quadratic loss": "quadratic",
    "mean squared error": "quadratic", "mse": "quadratic", "l2 loss": "quadratic", "sum of squares": "quadratic",
    "cross-entropy": "cross-entropy", "cross entropy": "cross-entropy", "log loss": "cross-entropy",
    "log-loss": "cross-entropy", "logistic loss": "cross-entropy", "negative log-likelihood": "cross-entropy",
    "negative log likelihood": "cross-entropy",
}
_MATH = re.compile(r"\$\$?(.+?)\$\$?|\\\((.+?)\\\)")
_FUNCTION_NAME = re.compile(r"(?<![A-Za-z\\])(\\sigma|\\phi|\\varphi|[gfsh])(?:_\{?(\d+)\}?)?(?![A-Za-z])")
_UNICODE_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def read_bindings(text: str) -> list[Binding]:
    """Every binding the key's prose states, with its line: "g₁ and g₂ are sigmoids", "use tanh",
    "linear hidden units", "with the squared loss", "sigmoid g_1, g_2", "g₁ is linear and g₂ the sigmoid".

    Each activation word binds the functions named in the math between it and the previous activation word of
    its clause (or, when there are none, the ones right after it); with no function named, every activation
    the key leaves unbound.  A clause ends at , ; . or "but"."""
    bindings = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.translate(_UNICODE_SUBSCRIPTS)
        prose = _MATH.sub(lambda m: " " * len(m.group(0)), line).lower()  # positions kept for the math
        for word, loss in _LOSS_WORDS.items():
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", prose):
                bindings.append(Binding(number, loss=loss))
                break
        for clause in _clauses(prose):
            bindings += _activation_bindings(number, line, prose, clause)
        step = _STEP.search(line) or _STEP_AFTER.search(line)
        if step:
            bindings.append(Binding(number, step=step.group(1).strip().lstrip("\\")))
        conditions = _prose_conditions(line)
        if conditions:
            bindings.append(Binding(number, conditions=conditions))
    return bindings


def _prose_conditions(line: str) -> tuple[sp.Basic, ...]:
    """The index conditions a line's inline math states on its own ("for $l \\ne k$", "when $j = l$")."""
    from symgrad.notation.latex import LatexParseError, parse_condition

    found: list[sp.Basic] = []
    for match in re.finditer(r"(?<!\$)\$([^$]+)\$(?!\$)", line):
        if not re.search(r"(?:\bfor|\bwhen|\bif|\bwhere|\bwith)\s*$", line[:match.start()], re.I):
            continue
        try:
            found += parse_condition(match.group(1))
        except LatexParseError:
            continue
    return tuple(found)


#: "step size $\eta$", "learning rate $\alpha$", "$\eta$ is the learning rate"
_STEP = re.compile(r"(?:step[ -]?size|learning[ -]rate)\s*(?:of\s*|is\s*|=\s*)?\$\s*\\?([A-Za-z]+)\s*\$", re.I)
_STEP_AFTER = re.compile(r"\$\s*\\?([A-Za-z]+)\s*\$\s*(?:is|as)\s+(?:the\s+)?(?:step[ -]?size|learning[ -]rate)", re.I)


def _clauses(prose: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of a line: split at , ; . : and "but" (math has been blanked out)."""
    cuts = [0] + [m.end() for m in re.finditer(r"[,;.:]\s|\bbut\b|\bwhile\b", prose)] + [len(prose)]
    return list(zip(cuts, cuts[1:], strict=False))


def _activation_bindings(number: int, line: str, prose: str, clause: tuple[int, int]) -> list[Binding]:
    start, end = clause
    words = []
    for word, activation in _ACTIVATION_WORDS.items():
        for match in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", prose[start:end]):
            if not _not_an_activation(prose, start + match.end(), activation):
                words.append((start + match.start(), start + match.end(), activation))
    words.sort()
    bindings = []
    previous = start
    for position, (word_start, word_end, activation) in enumerate(words):
        following = words[position + 1][0] if position + 1 < len(words) else end
        names = _function_names(line[previous:word_start]) or _function_names(line[word_end:following])
        bindings.append(Binding(number, activation=activation, functions=names,
                                where=_layer_named_nearest(prose, clause, word_start, word_end)))
        previous = word_end
    return bindings


def _layer_named_nearest(prose: str, clause: tuple[int, int], word_start: int, word_end: int) -> str:
    """Which layer the activation word at ``prose[word_start:word_end]`` is said of: the "hidden" or "output"
    nearest to it in its clause ("hidden units j = 1…H and one linear output": the output is linear), or ""."""
    start, end = clause
    best, distance = "", None
    for match in re.finditer(r"\b(hidden|output)\b", prose[start:end]):
        at, to = start + match.start(), start + match.end()
        gap = at - word_end if at >= word_end else word_start - to
        if distance is None or gap < distance:
            best, distance = match.group(1), gap
    return best


def _not_an_activation(prose: str, end: int, activation: str) -> bool:
    """"linear" in "a linear combination", "logistic regression", "sigmoid of": words that do not bind."""
    following = prose[end:end + 24]
    if activation == "identity":
        return not re.match(r"\s*(hidden\s+)?(units?|activations?|neurons?|layers?|outputs?|nodes?)\b", following) \
            and not re.search(r"\b(are|is|be)\s+(the\s+)?(linear|identity)", prose)
    return bool(re.match(r"\s*(regression|of\b|function's|derivative)", following))


def _function_names(line: str) -> tuple[str, ...]:
    """The activation functions named in a sentence's math ($g_1$, $g_2$, $\\sigma$), as the parser names them."""
    names = []
    for match in _MATH.finditer(line):
        math = match.group(1) or match.group(2)
        for name, index in _FUNCTION_NAME.findall(math):
            name = name.lstrip("\\")
            if name in ("s", "h") and not index:
                continue  # s and h alone are usually nodes or the sigmoid itself, not a function to bind
            names.append(f"{name}_{index}" if index else name)
    return tuple(dict.fromkeys(names))


# ---- the key's model -------------------------------------------------------------------------------------
@dataclass
class Roles:
    """What the key's claims tell about its quantities: what it differentiates the loss by and what it updates."""

    differentiated: list[sp.Expr] = field(default_factory=list)
    updated: list[sp.Expr] = field(default_factory=list)
    loss_names: list[str] = field(default_factory=list)
    step_sizes: list[str] = field(default_factory=list)  # the names its updates step with (η, α)
    through: list[sp.Expr] = field(default_factory=list)  # values it differentiates by without naming them: σ(z)
    indices: set[str] = field(default_factory=set)  # the index letters its claims use (p_k: k is no size)


class KeyModel:
    """The model of one section of a key: its definitions (in order), bindings and roles, built once."""

    def __init__(self, definitions: list[Definition], bindings: list[Binding], roles: Roles, name: str = "key") -> None:
        self.definitions = definitions
        self.bindings = bindings
        self.roles = roles
        self.name = name
        self.functions: dict[str, object] = {}  # written function name → library function, or an inlined Lambda
        #: layer quantities the model does not need (δ_j = (ŷ - y) v_j h_j(1 - h_j)): a claim using one means its value
        self.macros: dict[sp.Expr, sp.Expr] = {}
        self.model: Model | None = None

    def build(self) -> Model:
        """The model, or :class:`KeyModelError` with the reason the definitions do not make one."""
        if self.model is None:
            self.model = _Assembly(self).model()
        return self.model


class _Assembly:
    """Turning a section's definitions into ModelBuilder calls."""

    def __init__(self, key: KeyModel) -> None:
        self.key = key
        self.nodes = [d for d in key.definitions if d.kind == "node"]
        self.function_definitions = [d for d in key.definitions if d.kind == "function"]
        named = [b.step for b in key.bindings if b.step]
        steps = sorted(key.roles.step_sizes, key=lambda name: STEP_PREFERENCE.index(name)
                       if name in STEP_PREFERENCE else len(STEP_PREFERENCE))
        step = named[-1] if named else steps[0] if steps else "alpha"
        self.builder = ModelBuilder(key.name, "The model the key defines", step_size=_identifier(step),
                                    step_size_latex=_latex_of(step))
        self.declared: dict[str, sp.Expr] = {}  # the key's name (as parsed) → the builder's quantity
        self.indices: dict[str, sp.Symbol] = {}

    def model(self) -> Model:
        functions = self._functions()
        self.key.functions = functions
        nodes = self._ordered_nodes()
        if not nodes:
            raise KeyModelError("the key defines no node")
        loss = self._loss(nodes)
        values = {_written_name(d.target): _entries(self._applied(d.value, functions)) for d in nodes}
        nodes = self._unnamed_nodes(nodes, values, functions)
        nodes = _named_where_read(loss, nodes, values)
        reached = _reached(loss, nodes, values)  # what the loss never reads (another part's nodes) is no part of it
        self.key.macros = {d.target: values[d.name] for d in nodes if d not in reached and d.kind == "node"
                           and isinstance(d.target, sp.Indexed) and not _is_loss_name(d.target)}
        nodes = reached
        nodes, values = self._into_the_loss(loss, nodes, values)
        values = {name: value for name, value in values.items() if name in {_written_name(d.target) for d in nodes}}
        values = _separate_bound_indices(_sizes_apart(values, self.key.roles.indices))
        forward = [d for d in nodes if d is not loss]
        node_names = set(values)
        leaves = sorted({_leaf_name(s) for value in values.values() for s in _leaves(value)} - node_names)
        label = self._label(loss, values[_written_name(loss.target)], leaves, node_names)
        params = self._parameters(leaves, label)
        inputs = [name for name in leaves if name not in params and name != label]
        if not params:
            raise KeyModelError("the key names no parameter to differentiate by")
        if not inputs:
            raise KeyModelError("the key's model has no input")
        self._declare_indices(values)
        for name in inputs:
            self._declare(self.builder.input, name, values)
        self._declare(self.builder.label, label, values)
        for name in params:
            self._declare(self.builder.param, name, values)
        for definition in forward:
            name = _written_name(definition.target)
            quantity = self._declared_name(definition.target)
            node = self.builder.node(quantity, self._in_builder(values[name]), _latex_of(name))
            self.declared[name] = node.base if isinstance(node, sp.Indexed) else node
        loss_name = _written_name(loss.target)
        try:
            self.builder.loss(_identifier(loss_name), self._in_builder(values[loss_name]), _latex_of(loss_name))
        except ModelError as error:
            raise KeyModelError(error.reason) from None
        try:
            return self.builder.build()
        except ModelError as error:
            raise KeyModelError(error.reason) from None

    # -- functions -----------------------------------------------------------------------------------
    def _functions(self) -> dict[str, object]:
        """Each function name the key uses → what it means: a defined function (recognised as a library
        activation where it is one, else inlined), a prose binding, or a name that always means one thing."""
        meanings: dict[str, object] = {}
        for definition in self.function_definitions:
            if not definition.arguments:  # g = σ, or g_1 = g_2 = g
                meanings[definition.name] = meanings.get(definition.value.name) or KNOWN_FUNCTIONS.get(
                    definition.value.name, definition.value)
                continue
            meanings[definition.name] = _recognised(definition)
        applied = self._applied_names()
        # a binding that names its functions ("φ is the sigmoid") before one that does not ("a linear output"):
        # the unnamed one takes only what no name was given, whichever sentence came first
        for binding in sorted(self.key.bindings, key=lambda b: not b.functions):
            if binding.activation is None:
                continue
            library = ACTIVATIONS[binding.activation]
            named = binding.functions or tuple(n for n in applied if n not in meanings and n not in KNOWN_FUNCTIONS)
            chosen = [n for n in named if self._layer_fits(n, binding.where)]
            for name in chosen:
                meanings.setdefault(name, library)
        return meanings

    def _applied_names(self) -> list[str]:
        """The functions the key applies and does not define as nodes (f(w) = σ(wx) makes f a node)."""
        names = []
        for definition in self.nodes:
            names += [type(a).__name__ for a in definition.value.atoms(AppliedUndef)]
        nodes = {d.name for d in self.nodes}
        return list(dict.fromkeys(n for n in names if ACTIVATION_LETTERS.match(n) and n not in nodes))

    def _layer_fits(self, name: str, where: str) -> bool:
        """A binding of the "hidden" units spares the output's function, and the other way round."""
        if not where:
            return True
        output = self._output_function()
        return (name == output) == (where == "output")

    def _output_function(self) -> str | None:
        for definition in reversed(self.nodes):
            applied = [type(a).__name__ for a in definition.value.atoms(AppliedUndef)]
            if applied and not _is_loss_name(definition.target):
                return applied[0]
        return None

    def _applied(self, expr: sp.Expr, functions: dict[str, object]) -> sp.Expr:
        """``expr`` with every function application given its meaning; an unbound g stays abstract."""

        def meaning(application: AppliedUndef) -> sp.Expr:
            name = type(application).__name__
            target = functions.get(name) or KNOWN_FUNCTIONS.get(name)
            if name == "softmax":
                return self._softmax(application)
            if isinstance(target, sp.Lambda):
                return target(*application.args)
            if target is not None:
                return target(*application.args)
            node = self._node_named(name)
            if node is not None:
                return node  # h(x) for the node h
            return application

        return expr.replace(lambda e: isinstance(e, AppliedUndef), meaning)

    def _softmax(self, application: AppliedUndef) -> sp.Expr:
        (scores,) = application.args
        if not isinstance(scores, sp.Indexed):
            raise KeyModelError("softmax of something that is not one unit of a layer")
        index = self._fresh_index(scores, "l")
        return softmax(scores, (index, 1, _size_symbol(str(scores.indices[-1]))))

    def _fresh_index(self, scores: sp.Indexed, preferred: str) -> sp.Symbol:
        used = {str(i) for i in scores.indices}
        for letter in preferred + "qrlpn":
            if letter not in used:
                return sp.Symbol(letter, integer=True, positive=True)
        raise KeyModelError("no index letter left for a softmax's sum")

    def _node_named(self, name: str) -> sp.Expr | None:
        for definition in self.nodes:
            if _written_name(definition.target) == name:
                target = definition.target
                return sp.Symbol(name) if isinstance(target, AppliedUndef) else target
        return None

    def _unnamed_nodes(self, nodes: list[Definition], values: dict[str, sp.Expr],
                       functions: dict[str, object]) -> list[Definition]:
        """A node for each value the key differentiates by without naming it (∂L/∂σ(z) where L reads σ(z)),
        put where the value is first read, so that the chain through it has a node to pass."""
        taken = set(values) | {s.name for v in values.values() for s in v.free_symbols if isinstance(s, sp.Symbol)}
        for written in self.key.roles.through:
            value = self._applied(written, functions)
            if any(v == value for v in values.values()) or not any(v.has(value) for v in values.values()):
                continue
            name = next((n for n in ("a", "h", "p", "q", "u", "v_0") if n not in taken), None)
            if name is None:
                continue
            taken.add(name)
            symbol = sp.Symbol(name)
            first = next(position for position, d in enumerate(nodes) if values[d.name].has(value))
            for definition in nodes:
                values[definition.name] = values[definition.name].xreplace({value: symbol})
            values[name] = value
            nodes = [*nodes[:first], Definition(nodes[first].line, symbol, value), *nodes[first:]]
        return nodes

    # -- nodes, loss, label, parameters ---------------------------------------------------------------
    def _ordered_nodes(self) -> list[Definition]:
        """The latest definition of each name, ordered so that every node comes after what it reads."""
        latest: dict[str, Definition] = {}
        for definition in self.nodes:
            latest[_written_name(definition.target)] = definition
        ordered: list[Definition] = []
        remaining = list(latest.values())
        while remaining:
            ready = [d for d in remaining if not (_names_in(d.value) & {_written_name(r.target) for r in remaining
                                                                         if r is not d})]
            if not ready:
                raise KeyModelError("the key's definitions refer to each other in a circle")
            ordered.append(ready[0])
            remaining.remove(ready[0])
        return ordered

    def _loss(self, nodes: list[Definition]) -> Definition:
        """The loss: a node the key names as one (L, Loss, J, E) and that reads the label itself (J, the mean of
        L over the samples, is L once the samples are read one at a time); else the one node nothing reads."""
        named = [d for d in nodes if _is_loss_name(d.target) or _written_name(d.target) in self.key.roles.loss_names]
        names = {d.name for d in named}
        reading = [d for d in named if any(LABEL_NAME.match(name) for name in _names_in(d.value))
                   and not (_names_in(d.value) & (names - {d.name}))]  # J = mean of L: L is the loss
        if reading or named:
            return (reading or named)[-1]
        readers = {name for d in nodes for name in _names_in(d.value)}
        sinks = [d for d in nodes if _written_name(d.target) not in readers]
        if len(sinks) == 1 and LABEL_NAME.match(" ".join(_names_in(sinks[0].value))) is not None:
            return sinks[0]
        raise KeyModelError("the key defines no loss (L, Loss, J, E, …)")

    def _into_the_loss(self, loss: Definition, nodes: list[Definition], values: dict[str, sp.Expr]
                       ) -> tuple[list[Definition], dict[str, sp.Expr]]:
        """A node that reads the label (an error term ε = ŷ - y) is part of the loss: only the loss may read the
        label.  It is written into what reads it, and stays a name claims may use (ε in ∂L/∂ŷ = ε)."""
        for definition in [d for d in nodes if d is not loss and isinstance(d.target, sp.Symbol)]:
            if not any(LABEL_NAME.match(name) and name not in values for name in _names_in(values[definition.name])):
                continue
            value = values[definition.name]
            for other in nodes:
                if other is not definition:
                    values[other.name] = values[other.name].xreplace({definition.target: value})
            self.key.macros[definition.target] = value
            nodes = [d for d in nodes if d is not definition]
        return nodes, values

    def _label(self, loss: Definition, value: sp.Expr, leaves: list[str], nodes: set[str]) -> str:
        read = [name for name in sorted(_names_in(value)) if name in leaves]
        labelled = [name for name in read if LABEL_NAME.match(name)]
        if labelled:
            return labelled[0]
        others = [name for name in read if name not in self._parameter_names() and not PARAMETER_NAME.match(name)]
        if len(others) == 1:
            return others[0]
        raise KeyModelError("cannot tell which quantity in the loss is the label")

    def _parameter_names(self) -> list[str]:
        """What the key differentiates by or updates (w_ij names the layer w), in the order it does."""
        roles = self.key.roles
        return list(dict.fromkeys(_leaf_name(_entries(q)) for q in [*roles.differentiated, *roles.updated]))

    def _parameters(self, leaves: list[str], label: str) -> list[str]:
        """The leaves the key differentiates by or updates, and those named as parameters usually are (w, b, θ)."""
        order = self._parameter_names()
        chosen = [name for name in leaves if (name in order or PARAMETER_NAME.match(name)) and name != label
                  and not INPUT_NAME.match(name)]  # ∂E/∂x_i differentiates by an input, which stays one
        return sorted(chosen, key=lambda n: order.index(n) if n in order else len(order))

    # -- declaring with the builder --------------------------------------------------------------------
    def _declare_indices(self, values: dict[str, sp.Expr]) -> None:
        """Each index letter with its range.  Letters that index the same layer at the same place (the j of
        p_j and the l of Σ_l e^{z_l}) run over one range: the bound a sum gives one of them, else a default."""
        group: dict[str, str] = {}  # index letter → a representative letter of its range

        def find(letter: str) -> str:
            while group.setdefault(letter, letter) != letter:
                letter = group[letter]
            return letter

        places: dict[tuple[str, int], str] = {}
        bounds: dict[str, sp.Expr] = {}
        for definition in self.nodes:
            name = _written_name(definition.target)
            if name not in values:
                continue  # a node the loss does not read
            value = values[name]
            for indexed in [definition.target, *value.atoms(sp.Indexed)]:
                if not isinstance(indexed, sp.Indexed):
                    continue
                for position, index in enumerate(indexed.indices):
                    letter = find(str(index))
                    other = places.setdefault((str(indexed.base), position), letter)
                    group[find(other)] = letter
            for total in value.atoms(sp.Sum):
                for index, _, high in total.limits:
                    find(str(index))
                    bounds[str(index)] = high
        for letter, high in list(bounds.items()):
            bounds.setdefault(find(letter), high)
        for letter in list(group):
            root = find(letter)
            high = bounds.get(root, bounds.get(letter, sp.Symbol(DEFAULT_SIZES.get(root, "n"))))
            if isinstance(high, sp.Symbol):
                size: str | int = _identifier(str(high))
            elif high.is_Integer:
                size = int(high)
            else:
                raise KeyModelError(f"the sum over {letter} has a bound symgrad cannot use ({high})")
            self.indices[letter] = self.builder.index(letter, size)

    def _declare(self, method, name: str, values: dict[str, sp.Expr]) -> None:
        indices = self._indices_of(name, values)
        declared = _identifier(name) + (f"[{', '.join(indices)}]" if indices else "")
        quantity = method(declared, _latex_of(name))
        self.declared[name] = quantity.base if isinstance(quantity, sp.Indexed) else quantity

    def _indices_of(self, name: str, values: dict[str, sp.Expr]) -> list[str]:
        for value in values.values():
            for indexed in value.atoms(sp.Indexed):
                if str(indexed.base) == name:
                    return [str(i) for i in indexed.indices]
        return []

    def _declared_name(self, target: sp.Expr) -> str:
        name = _written_name(target)
        if isinstance(target, sp.Indexed):
            return f"{_identifier(name)}[{', '.join(str(i) for i in target.indices)}]"
        return _identifier(name)

    def _in_builder(self, expr: sp.Expr) -> sp.Expr:
        """The key's expression over the builder's symbols (same names, the builder's own objects)."""
        mapping: dict[sp.Basic, sp.Basic] = {}
        for symbol in expr.atoms(sp.Symbol):
            if symbol.name in self.indices:
                mapping[symbol] = self.indices[symbol.name]
            elif symbol.name in self.declared and not isinstance(self.declared[symbol.name], sp.IndexedBase):
                mapping[symbol] = self.declared[symbol.name]
        for indexed in expr.atoms(sp.Indexed):
            base = self.declared.get(str(indexed.base))
            if isinstance(base, sp.IndexedBase):
                mapping[indexed] = base[tuple(self.indices.get(str(i), i) for i in indexed.indices)]
        return expr.xreplace(mapping)


def _sizes_apart(values: dict[str, sp.Expr], indices: set[str]) -> dict[str, sp.Expr]:
    """A sum written without its bound runs to the parser's k; where the key uses k as an index (p_k), the
    size gets a name of its own."""
    sizes = {limit[2] for value in values.values() for total in value.atoms(sp.Sum) for limit in total.limits}
    used = {s.name for value in values.values() for s in value.atoms(sp.Symbol)} | indices
    renaming = {}
    for size in sizes:
        if isinstance(size, sp.Symbol) and size.name in indices:
            name = next(n for n in ("K", "n", "N", "M", "D", "size") if n not in used)
            used.add(name)
            renaming[size] = sp.Symbol(name, integer=True, positive=True)
    return {name: value.xreplace(renaming) for name, value in values.items()} if renaming else values


def _separate_bound_indices(values: dict[str, sp.Expr]) -> dict[str, sp.Expr]:
    """Give the index a sum runs over a letter no other sum or free index uses, wherever one letter is asked to
    run over two ranges (the l of a dot product over features and the l of a softmax over classes)."""
    ranges: dict[str, set] = {}
    for value in values.values():
        for total in value.atoms(sp.Sum):
            for index, low, high in total.limits:
                ranges.setdefault(index.name, set()).add((low, high))
    clashing = {name for name, bounds in ranges.items() if len(bounds) > 1}
    if not clashing:
        return values
    used = {s.name for value in values.values() for s in value.atoms(sp.Symbol)}
    spare = iter(c for c in "qrstuvabcdefgh" if c not in used)
    renamed = {}
    for name, value in values.items():
        def fresh(total: sp.Sum) -> sp.Sum:
            mapping = {}
            for index, _, _ in total.limits:
                if index.name in clashing:
                    letter = next(spare, None)
                    if letter is None:
                        raise KeyModelError("no index letter left for the key's sums")
                    mapping[index] = sp.Symbol(letter, integer=True, positive=True)
            return total.xreplace(mapping) if mapping else total

        renamed[name] = value.replace(lambda e: isinstance(e, sp.Sum), fresh)
    return renamed


def _named_where_read(loss: Definition, nodes: list[Definition], values: dict[str, sp.Expr]) -> list[Definition]:
    """A scalar definition the loss does not read by name, whose formula a node it reads holds verbatim (u = w^T x
    after h = σ(w^T x)), names that part: the node reads u, and ∂h/∂u is an edge of the graph."""
    for definition in list(nodes):
        reached = _reached(loss, nodes, values)
        value = values[definition.name]
        if (definition in reached or definition.kind != "node" or not isinstance(definition.target, sp.Symbol)
                or value.is_Atom or _is_loss_name(definition.target)):
            continue
        readers = [d for d in reached if values[d.name] != value and values[d.name].has(value)]
        if not readers:
            continue
        for reader in readers:
            values[reader.name] = values[reader.name].xreplace({value: definition.target})
        rest = [d for d in nodes if d is not definition]
        first = min(rest.index(reader) for reader in readers)
        nodes = [*rest[:first], definition, *rest[first:]]
    return nodes


def _reached(loss: Definition, nodes: list[Definition], values: dict[str, sp.Expr]) -> list[Definition]:
    """The nodes the loss reads, directly or through others, in their order."""
    needed = {_written_name(loss.target)}
    for definition in reversed(nodes):
        name = _written_name(definition.target)
        if name in needed:
            needed |= _names_in(values[name])
    return [d for d in nodes if _written_name(d.target) in needed]


def _recognised(definition: Definition) -> object:
    """A function the key defines: the library activation it equals (tested exactly in a prime field),
    else the definition itself, to be written out wherever the function is applied."""
    (argument, *rest) = definition.arguments
    if not rest:
        for name in ACTIVATION_NAMES:
            try:
                if sides_agree(None, definition.value, ACTIVATIONS[name](argument)):
                    return ACTIVATIONS[name]
            except Unsupported:
                continue
    return sp.Lambda(definition.arguments, definition.value)


def one_hot(expr: sp.Expr) -> sp.Expr:
    """An indicator of the class label, 1(y = k), as the one-hot label's entry y_k (which sums to 1 over k)."""

    def entry(delta: sp.KroneckerDelta) -> sp.Expr:
        a, b = delta.args[:2]
        if isinstance(b, sp.Symbol) and not b.is_integer and isinstance(a, sp.Symbol) and a.is_integer:
            a, b = b, a
        if isinstance(a, sp.Symbol) and not a.is_integer and isinstance(b, sp.Symbol) and b.is_integer:
            return sp.IndexedBase(a.name)[b]
        return delta

    return expr.replace(lambda e: isinstance(e, sp.KroneckerDelta), entry) if expr.has(sp.KroneckerDelta) else expr


def _entries(expr: sp.Expr) -> sp.Expr:
    """Names the parser kept whole (w_ij, x_i in some spellings) as entries of a layer: w[i, j]; an indicator
    of the label as the one-hot label's entry; max(0, u) as ReLU."""
    expr = one_hot(expr)
    if expr.has(sp.Max):
        expr = expr.replace(lambda e: isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args,
                            lambda e: relu(next(a for a in e.args if a != 0)))
    mapping = {}
    for symbol in expr.atoms(sp.Symbol):
        base, _, subscript = symbol.name.partition("_")
        if subscript and base.isalpha() and subscript.isalpha() and all(c in INDEX_LETTERS for c in subscript):
            mapping[symbol] = sp.IndexedBase(base)[tuple(sp.Symbol(c, integer=True, positive=True) for c in subscript)]
    return expr.xreplace(mapping) if mapping else expr


def _leaves(expr: sp.Expr) -> set[sp.Expr]:
    """The quantities an expression reads: symbols (not indices or sizes) and layer entries."""
    bound = {limit[0] for total in expr.atoms(sp.Sum) for limit in total.limits}
    sizes = {limit[2] for total in expr.atoms(sp.Sum) for limit in total.limits}
    labels = {indexed.base.label for indexed in expr.atoms(sp.Indexed)}
    symbols = {s for s in expr.free_symbols if isinstance(s, sp.Symbol) and not s.is_integer
               and s not in labels and s not in bound and s not in sizes}
    return symbols | set(expr.atoms(sp.Indexed))


def _leaf_name(quantity: sp.Expr) -> str:
    return str(quantity.base) if isinstance(quantity, sp.Indexed) else str(quantity)


def _names_in(expr: sp.Expr) -> set[str]:
    return {_leaf_name(q) for q in _leaves(expr)} | {type(a).__name__ for a in expr.atoms(AppliedUndef)}


def _identifier(name: str) -> str:
    """A builder name for the key's name: letters, digits and '_' (y^* → y_star, \\hat{y} → hat_y)."""
    text = name.replace("^*", "_star").replace("^{*}", "_star").replace("\\", "")
    text = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "q"
    if text[0].isdigit():
        text = "q" + text
    return text


def _latex_of(name: str) -> str:
    """The LaTeX the builder is told, so that its symbol has the name the key's parser gave: the parser names
    \\delta_2 ``delta_2`` and \\mathcal{L} ``mathcal{L}``, which read back only with their backslash."""
    greek = re.sub(r"(?<![A-Za-z\\])(alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|iota|kappa|lambda|mu|"
                   r"nu|xi|pi|rho|sigma|tau|phi|varphi|chi|psi|omega|ell)(?![A-Za-z])", r"\\\1", name)
    for candidate in (name, "\\" + name, greek):
        try:
            if latex_symbol_name(candidate, "latex") == name:
                return candidate
        except ModelError:
            continue
    raise KeyModelError(f"symgrad cannot name {name!r} in a model")


def _size_symbol(index: str) -> sp.Symbol:
    return sp.Symbol(DEFAULT_SIZES.get(index, "n"), integer=True, positive=True)


# ---- names for derivatives ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alias:
    """A name the key gives a derivative: δ_2 = ∂L/∂z_2, or δ_ℓ = ∂L/∂z_ℓ for every layer ℓ (``index``)."""

    line: int
    base: str
    index: sp.Symbol | None
    value: sp.Expr

    def expand(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every use of the name (δ_3, δ_j, δ_ℓ) replaced by the derivative it names.  A key may name
        a scalar and a layer with the same letter (ε = ∂E/∂q, ε_j = ∂E/∂p_j): the scalar's alias replaces the bare
        ε only, never the letter inside ε_j."""
        if self.index is None and expr.has(sp.Indexed):
            held = {indexed: sp.Dummy() for indexed in expr.atoms(sp.Indexed)}
            expanded = self.expand(expr.xreplace(held))
            return expanded.xreplace({dummy: indexed for indexed, dummy in held.items()})
        mapping: dict[sp.Expr, sp.Expr] = {}
        for symbol in expr.atoms(sp.Symbol):
            base, _, subscript = symbol.name.partition("_")
            if self.index is None and symbol.name == self.base:
                mapping[symbol] = self.value
            elif self.index is not None and base == self.base and subscript:
                mapping[symbol] = self._at(subscript.strip("{}"))
        for indexed in expr.atoms(sp.Indexed):
            if str(indexed.base) == self.base and len(indexed.indices) == 1 and self.index is not None:
                mapping[indexed] = self.value.xreplace({self.index: indexed.indices[0]})
        return expr.xreplace(mapping) if mapping else expr

    def _at(self, subscript: str) -> sp.Expr:
        if self.index is None or not subscript:
            return self.value
        if subscript.isalpha() and len(subscript) == 1:
            return self.value.xreplace({self.index: sp.Symbol(subscript, integer=True, positive=True)})

        def concrete(indexed: sp.Indexed) -> sp.Expr:  # z[ℓ] at ℓ = 3 is the scalar z_3 of a chain
            if indexed.indices == (self.index,):
                return sp.Symbol(f"{indexed.base}_{subscript}")
            return indexed

        return self.value.replace(lambda e: isinstance(e, sp.Indexed), concrete)


def alias_in(lhs: sp.Expr | None, rhs: tuple[sp.Expr, ...], relation: str, line: int) -> Alias | None:
    """The alias ``δ_ℓ = ∂L/∂z_ℓ`` states (its first right side a derivative and nothing else), or None."""
    if lhs is None or relation != "=" or not rhs or not isinstance(rhs[0], (Partial, sp.Derivative)):
        return None
    if isinstance(lhs, sp.Indexed) and len(lhs.indices) == 1 and isinstance(lhs.indices[0], sp.Symbol):
        return Alias(line, str(lhs.base), lhs.indices[0], rhs[0])
    if isinstance(lhs, sp.Symbol) and not lhs.has(Partial):
        base, _, subscript = lhs.name.partition("_")
        if base and base not in LOSS_NAMES and (not subscript or subscript.isdigit()):
            return Alias(line, lhs.name, None, rhs[0])
    return None
