"""Reading a parsed claim in a model's own symbols.

The parser names things as the key writes them (``g_1(z_1)``, ``\\sigma(z)``,
``h(\\mathbf{x})``, ``L``, ``y``); a model names them its own way (``sigmoid``,
the node ``h``, the loss node ``Loss``, the label ``y^*``).  A
:class:`Vocabulary`, built from the model's graph (never from a list typed
here), translates one into the other, or says which symbols it does not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.model.functions import relu, sigmoid, softplus
from symgrad.model.graph import Model, Partial

#: Names a key may use for "the sigmoid" whatever letter the handout chose.
SIGMOID_NAMES = ("s", "sigma", "g", "sigmoid", "sigm", "logistic")
#: Names a key may use for a step size.
STEP_NAMES = ("alpha", "eta", "lambda", "epsilon", "mu")
#: Names a key may use for "the loss".
LOSS_NAMES = ("L", "Loss", "mathcal{L}", "J", "E")


class UnknownSymbols(ValueError):
    """The claim uses symbols the model does not have."""


@dataclass
class Vocabulary:
    """How one model's quantities may be written in a key."""

    model: Model
    symbols: dict[str, sp.Expr] = field(default_factory=dict)  # written name → model quantity
    functions: dict[str, object] = field(default_factory=dict)  # written function name → model function or node
    index_names: frozenset[str] = frozenset()
    ranks: dict[str, int] = field(default_factory=dict)  # an indexed quantity's name → its number of indices

    @classmethod
    def of(cls, model: Model) -> Vocabulary:
        vocabulary = cls(model)
        quantities = [*model.inputs, model.label, *model.params, model.step_size, *model.vector_forms.values()]
        quantities += [node.symbol for node in model.nodes]
        quantities += sorted({a for node in model.nodes for a in node.value.atoms(sp.Symbol)}, key=str)  # k, i
        for quantity in quantities:
            if isinstance(quantity, sp.Indexed):
                vocabulary.symbols[str(quantity.base)] = quantity.base
                vocabulary.ranks[str(quantity.base)] = len(quantity.indices)
                vocabulary.index_names |= {str(i) for i in quantity.indices}
            else:  # setdefault: an indexed quantity's label (the w of w_ij) is a Symbol among the atoms too
                vocabulary.symbols.setdefault(str(quantity), quantity)
        vocabulary.index_names |= {str(i) for i in model.index_ranges}
        for name in LOSS_NAMES:
            vocabulary.symbols.setdefault(name, model.loss.symbol)
        for name in STEP_NAMES:  # known, so that a key using the wrong step size is judged wrong, not unrecognized
            vocabulary.symbols.setdefault(name, sp.Symbol(name))
        if str(model.label) == "y^*":
            vocabulary.symbols.setdefault("y", model.label)
        for node in model.forward_nodes:
            if isinstance(node.value, (sp.Function, AppliedUndef)) and len(node.value.args) == 1:
                func = node.value.func
                layer = str(node.symbol).replace("a_", "")
                vocabulary.functions.setdefault(f"g_{layer}", func)
                if func is sigmoid:
                    for name in SIGMOID_NAMES:
                        vocabulary.functions.setdefault(name, sigmoid)
        # symgrad's own functions are known by their names (\operatorname{softplus}(z_2)), and σ by its
        # usual names wherever it appears, also only as a derivative (softplus' = σ)
        applied = {type(f) for node in model.nodes for f in node.value.atoms(sp.Function)}
        library = applied & {sigmoid, softplus, relu}
        for func in library:
            vocabulary.functions.setdefault(func.__name__, func)
        if library & {sigmoid, softplus}:
            for name in ("sigma", "sigmoid"):
                vocabulary.functions.setdefault(name, sigmoid)
        # h(\mathbf{x}) names the node h; Loss(a_2, y^*) names the loss node
        for node in model.nodes:
            vocabulary.functions.setdefault(str(node.symbol), node.symbol)
        for name in LOSS_NAMES:
            vocabulary.functions.setdefault(name, model.loss.symbol)
        return vocabulary

    def is_index(self, name: str) -> bool:
        """An index of the model's layers, possibly primed (j, l, i' as a summation index)."""
        letter = name.rstrip("'")
        known = self.symbols.get(letter)
        return letter in self.index_names or (isinstance(known, sp.Symbol) and bool(known.is_integer))

    def _indices(self, subscript: str) -> tuple[sp.Expr, ...] | None:
        """``ij`` → (i, j), ``i'j`` → (i', j): a subscript made of the model's indices, else None; a number
        (θ_0 of a vector θ) is the entry at that number."""
        if subscript.isdigit():
            return (sp.Integer(int(subscript)),)
        names = re.findall(r"[a-z]'*", subscript)
        if "".join(names) != subscript or not all(self.is_index(n) for n in names):
            return None
        return tuple(sp.Symbol(n, integer=True, positive=True) for n in names)

    def indexed(self, name: str) -> sp.Expr | None:
        """A name the parser kept whole, read as an entry of the model's layers: w_ij → w[i, j], delta_jl → δ_jl."""
        base, _, subscript = name.partition("_")
        indices = self._indices(subscript) if subscript else None
        if indices is None:
            return None
        if base == "delta" and len(indices) == 2 and base not in self.symbols:
            return sp.KroneckerDelta(*indices)
        target = self.symbols.get(base)
        if isinstance(target, sp.IndexedBase) and self.ranks.get(base) == len(indices):
            return target[indices]
        return None

    def _known_symbol(self, atom: sp.Symbol) -> bool:
        if self.is_index(atom.name) and (atom.is_integer or atom.name not in self.symbols):
            return True
        if atom.name in self.symbols:
            return not isinstance(self.symbols[atom.name], sp.IndexedBase)  # b for a layer of biases b_j: unknown
        return self.indexed(atom.name) is not None

    def _known_indexed(self, atom: sp.Indexed) -> bool:
        target = self.symbols.get(str(atom.base))
        return isinstance(target, sp.IndexedBase) and self.ranks.get(str(atom.base)) == len(atom.indices)

    def knows(self, expr: sp.Expr) -> list[str]:
        """The names in ``expr`` this vocabulary cannot translate (empty when it can)."""
        unknown = set()
        labels = {atom.base.label for atom in expr.atoms(sp.Indexed)}  # the w of w_ij is no symbol of its own
        bound = {limit[0] for total in expr.atoms(sp.Sum, sp.Product) for limit in total.limits}  # Σ_q: any letter
        for atom in expr.atoms(sp.Symbol) - labels - bound:
            if not self._known_symbol(atom):
                unknown.add(atom.name)
        for atom in expr.atoms(sp.Indexed):
            if not self._known_indexed(atom):
                unknown.add(str(atom))
        for application in expr.atoms(AppliedUndef):
            if type(application).__name__ not in self.functions:
                unknown.add(type(application).__name__)
        return sorted(unknown)

    def translate(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` in the model's symbols and functions; raises :class:`UnknownSymbols`."""
        unknown = self.knows(expr)
        if unknown:
            raise UnknownSymbols(", ".join(unknown))
        return self._translate(expr)

    def _as_quantity(self, expr: sp.Expr) -> sp.Expr:
        """A node written by its value (σ(z) for the node that is σ(z)) as that node, in a derivative.

        A quantity that is already a node stays itself, even when another node's value is it
        (an identity activation, a₂ = z₂: ∂a₂/∂z₂ is by z₂, not by a₂).
        """
        if self.model.node(expr) is not None:
            return expr
        for node in self.model.forward_nodes:
            if node.value == expr:
                return node.symbol
        return expr

    def _translate(self, expr: sp.Expr) -> sp.Expr:
        if isinstance(expr, sp.Symbol):
            if self.is_index(expr.name) and (expr.is_integer or expr.name not in self.symbols):
                return expr
            if expr.name in self.symbols:
                return self.symbols[expr.name]
            if expr.is_integer and re.fullmatch(r"[a-z]'*", expr.name):
                return expr  # a summation index of the key's own choosing (knows() admitted only bound ones)
            return self.indexed(expr.name)
        if isinstance(expr, sp.Indexed):
            return self.symbols[str(expr.base)][expr.indices]
        if isinstance(expr, sp.IndexedBase):
            return self.symbols.get(str(expr), expr)
        if isinstance(expr, AppliedUndef):
            target = self.functions[type(expr).__name__]
            args = [self._translate(a) for a in expr.args]
            if isinstance(target, sp.Symbol):  # h(x), Loss(a_2, y^*): the node's value
                if any(a.has(target) for a in args):  # h(1 - h): no node is written of itself, so a product
                    return sp.Mul(target, *args)
                return target
            return target(*args)
        if isinstance(expr, Partial):
            of, wrt = self._as_quantity(self._translate(expr.of)), self._as_quantity(self._translate(expr.wrt))
            if isinstance(of, sp.Function) and not isinstance(of, sp.Symbol):
                return sp.Derivative(of, wrt)  # ∂g(z)/∂z: an ordinary derivative of an applied function
            return Partial(of, wrt)
        if isinstance(expr, sp.Derivative):
            inner = self._translate(expr.expr)
            written = [self._translate(v) for v in expr.variables]
            variables = [self._as_quantity(v) for v in written]
            renamed = {w: v for w, v in zip(written, variables, strict=False) if w != v}
            inner = inner.xreplace(renamed)  # d/dσ(z) of …σ(z)…
            if isinstance(inner, sp.Symbol) and (inner,) == tuple(variables):  # ∂/∂z₂ (z₂), an identity node's partial
                return sp.S.One
            if isinstance(inner, sp.Symbol):  # h'(…) where h names a node: d node / d variable
                return Partial(inner, variables[0])
            return sp.Derivative(inner, *variables)
        if not expr.args:
            return expr
        args = [self._translate(a) for a in expr.args]
        if isinstance(expr, sp.Mul) and all(isinstance(a, Partial) for a in args):
            return sp.Mul(*args, evaluate=False)  # a chain-rule product keeps its written order
        return expr.func(*args)
