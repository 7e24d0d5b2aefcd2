"""Reading a parsed claim in a model's own symbols.

The parser names things as the key writes them (``g_1(z_1)``, ``\\sigma(z)``,
``h(\\mathbf{x})``, ``L``, ``y``); a model names them its own way (``sigmoid``,
the node ``h``, the loss node ``Loss``, the label ``y^*``).  A
:class:`Vocabulary`, built from the model's graph (never from a list typed
here), translates one into the other, or says which symbols it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from ..functions import relu, sigmoid, softplus
from ..graph import Model, Partial

#: Names a key may use for "the sigmoid" whatever letter the handout chose.
SIGMOID_NAMES = ("s", "sigma", "g", "sigmoid")
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

    @classmethod
    def of(cls, model: Model) -> "Vocabulary":
        vocabulary = cls(model)
        quantities = [*model.inputs, model.label, *model.params, model.step_size, *model.vector_forms.values()]
        quantities += [node.symbol for node in model.nodes]
        quantities += sorted({a for node in model.nodes for a in node.value.atoms(sp.Symbol)}, key=str)  # k, i
        for quantity in quantities:
            if isinstance(quantity, sp.Indexed):
                vocabulary.symbols[str(quantity.base)] = quantity.base
                vocabulary.index_names |= {str(i) for i in quantity.indices}
            else:
                vocabulary.symbols[str(quantity)] = quantity
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

    def knows(self, expr: sp.Expr) -> list[str]:
        """The names in ``expr`` this vocabulary cannot translate (empty when it can)."""
        unknown = set()
        for atom in expr.atoms(sp.Symbol):
            if atom.name not in self.symbols and atom.name not in self.index_names:
                unknown.add(atom.name)
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
            if expr.name in self.index_names:
                return expr
            return self.symbols[expr.name]
        if isinstance(expr, sp.Indexed):
            base = self.symbols.get(str(expr.base), expr.base)
            return base[expr.indices] if isinstance(base, sp.IndexedBase) else expr
        if isinstance(expr, sp.IndexedBase):
            return self.symbols.get(str(expr), expr)
        if isinstance(expr, AppliedUndef):
            target = self.functions[type(expr).__name__]
            args = [self._translate(a) for a in expr.args]
            if isinstance(target, sp.Symbol):  # h(x), Loss(a_2, y^*): the node's value
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
            inner = inner.xreplace({w: v for w, v in zip(written, variables) if w != v})  # d/dσ(z) of …σ(z)…
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
