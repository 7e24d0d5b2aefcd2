"""Derive a model's gradients and updates, step by step, from its graph.

``derive(model)`` walks the graph the way the backpropagation handout does:
forward pass, composed loss, and for each parameter the chain-rule product of
node partials, each partial's local value, the product in forward-pass values,
and the gradient-descent update.  ``derive_sigmoid_identity()`` proves
s'(γ) = s(γ)(1 - s(γ)) from the definition of s.
"""

from __future__ import annotations

import sympy as sp

from .derivation import ASSIGN, Derivation, DerivationBuilder, Equation, Result
from .forms import handout_form, is_negated, negate, product, substitute
from .functions import relu, sigmoid
from .graph import Model, Partial, Path, drop_index_range
from .sizes import with_numbers, with_symbolic_sizes


def derive(model: Model, verify: bool = True) -> Derivation:
    """Every step from the forward pass to the update rule, each proven by SymPy (unless ``verify`` is False).

    Layer sizes given as numbers are derived as symbols and put back at the end (see ``sizes.py``),
    so that the work never grows with them.
    """
    general, numbers = with_symbolic_sizes(model)
    derivation = _GraphDerivation(general, verify).run()
    return with_numbers(derivation, model, numbers) if numbers else derivation


class _GraphDerivation:
    def __init__(self, model: Model, verify: bool = True) -> None:
        self.model = model
        self.builder = DerivationBuilder(model.name, model.description, model, verify)
        self.shown_partials: set[Partial] = set()
        self.shown_merges: set[Partial] = set()
        self._local_partials: dict[Partial, tuple[sp.Expr, sp.Expr]] = {}

    # -- helpers -----------------------------------------------------------
    def local_partial(self, factor: Partial) -> tuple[sp.Expr, sp.Expr]:
        """A node partial's value and its handout form, worked out once: every chain below it reuses them
        (a chain of n nodes has n parameters whose chains share up to 2n factors)."""
        known = self._local_partials.get(factor)
        if known is None:
            value = self.model.partial(factor.of, factor.wrt)
            known = self._local_partials[factor] = (value, self.form(value))
        return known

    def form(self, expr: sp.Expr) -> sp.Expr:
        notation = self.model.notation
        shaped = handout_form(self.model.in_forward_values(expr), self.model.label, notation.label_first)
        return self.model.readable_sums(shaped)

    def run(self) -> Derivation:
        model, builder = self.model, self.builder
        builder.step(
            "Forward pass",
            "Each node's value, written in terms of the node's inputs.",
            *(Equation(node.symbol, (node.expr,), definition=True) for node in model.forward_nodes),
        )
        loss = model.loss
        composed = loss.expr
        for node in reversed(model.forward_nodes):
            if isinstance(node.symbol, sp.Indexed):  # a layer: every unit it is read at, under its own index
                composed = model.substitute_nodes(composed, [node])
            else:
                composed = substitute(composed, {node.symbol: node.expr})
        rhs = (loss.expr,) if composed == loss.expr else (loss.expr, composed)
        builder.step(
            "Loss",
            "The loss, and the same loss composed all the way down to the input, the parameters and the activations.",
            Equation(loss.symbol, rhs, definition=True),
        )
        for param in model.params:
            self.gradient_of(param)
        if model.vector_forms:
            self.gradient_vector()
        self.updates()
        return builder.build()

    def chain_factors(self, path: Path) -> list[Partial]:
        return [Partial(u, v) for u, v in path.edges]

    def gradient_of(self, param: sp.Expr) -> None:
        model, builder = self.model, self.builder
        loss_symbol = model.loss.symbol
        target = Partial(loss_symbol, param)
        paths = model.paths(param)
        if not paths:
            raise ValueError(f"{model.name}: the loss does not depend on {param}")
        if len(paths) > 1 and any(len(path.quantities) == 2 for path in paths):
            # ∂L/∂w would be both the gradient and the chain's factor for the edge L → w: no equation can say it.
            # Model files never get here: build.py's _check_one_way_to_the_loss refuses them earlier, naming the
            # file's key and suggesting a penalty node.  This is the backstop for Models built by hand, with the
            # same rule and, in substance, the same message.
            through = next(path.quantities[1] for path in paths if len(path.quantities) > 2)
            raise ValueError(f"{model.name}: the loss uses the parameter {param} both directly and through the "
                             f"node {through}; the loss may read a parameter only one way: make the term with "
                             f"{param} a node of its own and use that node in the loss")
        chains = [_summed(product(*self.chain_factors(p)), p.sums) for p in paths]
        chain = chains[0] if len(chains) == 1 else sp.Add(*chains, evaluate=False)
        explanation: tuple = ("The chain rule along the graph from the loss to ", param,
                              ": one node partial per edge, in chain order.")
        for path in paths:
            explanation += self.why_summed(path)
        builder.step(("Chain rule for ", target), explanation, Equation(target, (chain,)))
        new_partials = [f for p in paths for f in self.chain_factors(p) if f not in self.shown_partials]
        if new_partials:
            explanation = "The partial derivative of each node's output with respect to its input, in forward-pass values."
            if any(model.node(f.of) is not None and model.node(f.of).expr.has(relu) for f in new_partials):
                explanation += " ReLU has no derivative at 0; its subgradient there is taken as 0, so ReLU'(z) = 1[z > 0]."
            builder.step(
                "Node partials",
                explanation,
                *(self.node_partial(f) for f in dict.fromkeys(new_partials)),
            )
            self.shown_partials.update(new_partials)

        path_forms = [self.path_form(p) for p in paths]
        in_values = path_forms[0] if len(path_forms) == 1 else sp.Add(*path_forms, evaluate=False)
        builder.step(
            (target, " in forward-pass values"),
            "Multiply the node partials along the chain.",
            Equation(target, (in_values,)),
        )
        builder.result(Result(name=f"d{loss_symbol}/d{param}", kind="gradient", lhs=target, value=in_values.doit(), form=in_values))

    def why_summed(self, path: Path) -> tuple:
        """Why the chain sums over some units: name the node whose every unit depends on the quantity below it."""
        why: tuple = ()
        for index, _, _ in path.sums:
            for child, parent in path.edges:
                if index in sp.sympify(child).free_symbols and index not in sp.sympify(parent).free_symbols:
                    why += (" Every ", child, " depends on ", parent, ", so the chain runs through all of them and sums "
                            "over ", index, "; a single path through one unit would miss the others.")
                    break
        return why

    def node_partial(self, factor: Partial) -> Equation:
        model = self.model
        unevaluated = model.partial_unevaluated(factor.of, factor.wrt)
        local, local_form = self.local_partial(factor)
        forms: list[sp.Expr] = []
        earlier = [limit for total in unevaluated.atoms(sp.Sum) for limit in total.limits]
        shaped_local = model.readable_sums(handout_form(local, model.label, model.notation.label_first), earlier)
        for candidate in (unevaluated, shaped_local, local_form):
            if not forms or candidate != forms[-1]:
                forms.append(candidate)
        return Equation(factor, tuple(dict.fromkeys(forms)))

    def path_form(self, path: Path) -> sp.Expr:
        """The chain's product in forward-pass values; the loss and output-activation factors
        are merged where they collapse (cross-entropy after a sigmoid gives a_2 - y^*, after a
        softmax Σ_l ∂L/∂p_l ∂p_l/∂z_j gives p_j - y_j)."""
        model = self.model
        factors = self.chain_factors(path)
        values = [self.local_partial(f)[0] for f in factors]
        forms = [self.local_partial(f)[1] for f in factors]
        sums = list(path.sums)
        if len(factors) >= 2:
            later = set().union(*(f.free_symbols for f in factors[2:]))
            inner = [s for s in sums if s[0] not in later]
            pair = values[0] * values[1]
            if inner:  # the sum collapses in forward-pass values: Σ_l (-y_l/p_l)·p_l(δ_jl - p_j) = p_j - y_j
                pair = _collapse(model, model.in_forward_values(values[0]) * model.in_forward_values(values[1]), inner)
            merged = self.form(pair)
            if sp.count_ops(merged) < sp.count_ops(forms[0]) + sp.count_ops(forms[1]) and not merged.has(sp.Sum):
                self.show_merge(factors[0], factors[1], forms[0], forms[1], merged, inner)
                forms = [merged, *forms[2:]]
                sums = [s for s in sums if s not in inner]
        for limit in reversed(sums):  # each remaining sum wraps only the factors that carry its index, and goes last
            carrying = [f for f in forms if limit[0] in f.free_symbols]
            forms = [f for f in forms if f not in carrying] + [sp.Sum(_pull_sign(carrying), limit)]
        return _pull_sign(forms)

    def show_merge(self, outer: Partial, inner: Partial, outer_form: sp.Expr, inner_form: sp.Expr, merged: sp.Expr,
                   sums: list | None = None) -> None:
        combined = Partial(outer.of, inner.wrt)
        if combined in self.shown_merges:
            return
        self.shown_merges.add(combined)
        sums = sums or []
        explanation: tuple = ("The loss's partial and the output activation's partial cancel into a short error signal at ",
                              inner.wrt, ".")
        for total, value in self.model.assumptions.items():
            explanation += (" The label is one-hot, so ", sp.Eq(total, value, evaluate=False), ".")
        self.builder.step(
            (combined, " collapses"),
            explanation,
            Equation(combined, (_summed(product(outer, inner), sums), _summed(product(outer_form, inner_form), sums), merged)),
        )

    def gradient_vector(self) -> None:
        model = self.model
        loss_symbol = model.loss.symbol
        for result in list(self.builder.derivation.results):
            if result.kind != "gradient" or result.lhs.wrt not in model.vector_forms:
                continue
            vector = model.vector_forms[result.lhs.wrt]
            form = model.vector_form(result.form)
            target = Partial(loss_symbol, vector)
            self.builder.step(
                "Gradient vector",
                ("Stack the components for every feature index into one vector.",),
                Equation(target, (form,)),
            )
            self.builder.result(Result(name=f"grad_{vector}", kind="gradient", lhs=target, value=model.vector_form(result.value), form=form))

    def updates(self) -> None:
        model = self.model
        alpha = model.step_size
        equations = []
        for result in list(self.builder.derivation.results):
            if result.kind != "gradient":
                continue
            param = result.lhs.wrt
            if param in model.vector_forms:  # the vector update stands for its components
                continue
            generic = sp.Add(param, negate(product(alpha, result.lhs)), evaluate=False)
            rhs = [generic, _step(param, alpha, result.form)]
            equations.append(Equation(param, tuple(rhs), relation=ASSIGN, definition=True))
            self.builder.result(
                Result(name=f"update_{param}", kind="update", lhs=param, value=param - alpha * result.value, form=rhs[-1], relation=ASSIGN)
            )
        self.builder.step(
            "Gradient-descent update",
            ("Step each parameter against its gradient, with step size ", alpha, "."),
            *equations,
        )


def _summed(term: sp.Expr, sums) -> sp.Expr:
    """``term`` summed over each (index, low, high) in ``sums``, one Σ per index; itself when there are none."""
    for limit in reversed(list(sums)):
        term = sp.Sum(term, limit)
    return term


def _collapse(model: Model, term: sp.Expr, sums: list) -> sp.Expr:
    """Σ over ``sums`` of ``term``, carried out where SymPy can (Kronecker deltas, factors free of the
    index) and with the model's facts about its data applied (Σ_l y_l = 1)."""
    if not sums:
        return term
    total = sp.Add(*(_sum_term(t, sums) for t in sp.Add.make_args(sp.expand(term))))
    return model.assume(drop_index_range(total))


def _sum_term(term: sp.Expr, sums: list) -> sp.Expr:
    """One product summed: the factors free of the indices move out, and a Kronecker delta picks its term."""
    indices = {s[0] for s in sums}
    outside = sp.Mul(*(f for f in sp.Mul.make_args(term) if not f.free_symbols & indices))
    inside = sp.Mul(*(f for f in sp.Mul.make_args(term) if f.free_symbols & indices))
    return outside * _summed(inside, sums).doit()


def _pull_sign(forms: list[sp.Expr]) -> sp.Expr:
    """Multiply handout forms in order, collecting their minus signs in front."""
    negative = False
    unsigned = []
    for form in forms:
        if is_negated(form):
            negative = not negative
            form = negate(form)
        unsigned.append(form)
    joined = product(*unsigned)
    return negate(joined) if negative else joined


def _step(param: sp.Expr, alpha: sp.Expr, gradient_form: sp.Expr) -> sp.Expr:
    """param - α·gradient, written ``param + α·(…)`` when the gradient carries a minus sign."""
    if is_negated(gradient_form):
        return sp.Add(param, product(alpha, negate(gradient_form)), evaluate=False)
    return sp.Add(param, negate(product(alpha, gradient_form)), evaluate=False)


def derive_sigmoid_identity(gamma: sp.Symbol | None = None) -> Derivation:
    """s'(γ) = s(γ)(1 - s(γ)), from s(γ) = 1/(1 + e^{-γ}): differentiate, split, recognise."""
    gamma = gamma if gamma is not None else sp.Symbol("gamma")
    s = sigmoid(gamma)
    definition = 1 / (1 + sp.exp(-gamma))
    builder = DerivationBuilder("sigmoid", "The derivative of the sigmoid", None)
    s_prime = sp.Derivative(s, gamma)
    builder.step("Definition", "The logistic (sigmoid) function.", Equation(s, (definition,), definition=True))
    quotient = sp.exp(-gamma) * (1 + sp.exp(-gamma)) ** -2
    builder.step(
        "Differentiate",
        ("Apply the chain rule to the reciprocal ", sp.Pow(1 + sp.exp(-gamma), -1, evaluate=False), "."),
        Equation(s_prime, (sp.Derivative(definition, gamma), quotient)),
    )
    first = sp.Pow(1 + sp.exp(-gamma), -1, evaluate=False)
    second = sp.Mul(sp.exp(-gamma), sp.Pow(1 + sp.exp(-gamma), -1, evaluate=False), evaluate=False)
    builder.step(
        "Split the fraction",
        ("Write the quotient as a product of two fractions over ", 1 + sp.exp(-gamma), "."),
        Equation(s_prime, (product(first, second),)),
    )
    one_minus = sp.Add(1, -first, evaluate=False)
    builder.step(
        "Recognise s and 1 - s",
        "Adding and subtracting 1 in the second numerator shows it is 1 minus the first fraction.",
        Equation(second, (sp.Mul(sp.Add(1 + sp.exp(-gamma), -1, evaluate=False), sp.Pow(1 + sp.exp(-gamma), -1, evaluate=False), evaluate=False), one_minus, sp.Add(1, -s, evaluate=False))),
        Equation(first, (s,)),
    )
    identity = product(s, sp.Add(1, -s, evaluate=False))
    builder.step("Result", "Substitute both recognitions.", Equation(s_prime, (identity,)))
    builder.result(Result(name="ds/dgamma", kind="identity", lhs=s_prime, value=s * (1 - s), form=identity))
    return builder.build()
