"""Derive a model's gradients and updates, step by step, from its graph.

``derive(model)`` walks the graph the way the backpropagation handout does:
forward pass, composed loss, and for each parameter the chain-rule product of
node partials, each partial's local value, the product in forward-pass values,
and the gradient-descent update.  ``derive_sigmoid_identity()`` proves
s'(γ) = s(γ)(1 - s(γ)) from the definition of s.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from symgrad.derivation.forms import handout_form, is_negated, negate, product, substitute
from symgrad.derivation.sizes import with_numbers, with_symbolic_sizes
from symgrad.derivation.steps import ASSIGN, Derivation, DerivationBuilder, Equation, Result
from symgrad.model.functions import relu, sigmoid
from symgrad.model.graph import Model, Partial, Path, canonical_sums, drop_index_range, fresh_bound_indices


def derive(model: Model, verify: bool = True) -> Derivation:
    """Every step from the forward pass to the update rule, each proven by SymPy (unless ``verify`` is False).

    Layer sizes given as numbers are derived as symbols and put back at the end (see ``sizes.py``),
    so that the work never grows with them.
    """
    general, numbers = with_symbolic_sizes(model)
    derivation = _GraphDerivation(general, verify).run()
    if not numbers:
        return derivation
    numbered = with_numbers(derivation, model, numbers)
    numbered.chains = frozenset(chain.xreplace(numbers) for chain in derivation.chains)
    numbered.results = [replace(r, model=model, chains=numbered.chains) for r in numbered.results]
    return numbered


class _GraphDerivation:
    def __init__(self, model: Model, verify: bool = True) -> None:
        self.model = model
        self.builder = DerivationBuilder(model.name, model.description, model, verify)
        #: each node partial shown so far, and the parameter and the number of the step that showed it
        self.shown_partials: dict[Partial, tuple[sp.Expr, int]] = {}
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
        chains = [_summed(builder.chain(product(*self.chain_factors(p))), p.sums) for p in paths]
        chain = chains[0] if len(chains) == 1 else sp.Add(*chains, evaluate=False)
        explanation: tuple = ("The chain rule along the graph from the loss to ", param,
                              ": one node partial per edge, in chain order.")
        for path in paths:
            explanation += self.why_summed(path)
        builder.step(("The chain rule for ", param), explanation, Equation(target, (chain,)))
        factors = list(dict.fromkeys(f for p in paths for f in self.chain_factors(p)))
        reused = self.reused(factors)
        new_partials = [f for f in factors if f not in self.shown_partials]
        if new_partials:
            self.node_partials_step(new_partials, reused)
            shown_in = (param, len(builder.derivation.steps))
            self.shown_partials.update(dict.fromkeys(new_partials, shown_in))

        path_forms = [self.path_form(p) for p in paths]
        in_values = path_forms[0] if len(path_forms) == 1 else sp.Add(*path_forms, evaluate=False)
        explanation = ("Multiply the node partials along the chain.",)
        if not new_partials:
            explanation = (*reused, "Multiply them along the chain.")
        builder.step(
            ("The gradient for ", param, " in forward-pass values"),
            explanation,
            Equation(target, (in_values,)),
        )
        builder.result(Result(name=f"d{loss_symbol}/d{param}", kind="gradient", lhs=target, value=in_values.doit(),
                              form=in_values))

    def reused(self, factors: list[Partial]) -> tuple:
        """The sentence that names the node partials of a chain already worked out in an earlier section, and
        that section ("∂Loss/∂a₂ and ∂a₂/∂z₂ are reused from step 4, the node partials for w₂."); () when none is."""
        earlier: dict[tuple, list[Partial]] = {}
        for factor in factors:
            if factor in self.shown_partials:
                earlier.setdefault(self.shown_partials[factor], []).append(factor)
        sentence: tuple = ()
        for (param, number), shown in earlier.items():
            named: tuple = ()
            for position, factor in enumerate(shown):
                named += (_joiner(position, len(shown)), factor)
            verb = "is" if len(shown) == 1 else "are"
            factors = "The factor " if len(shown) == 1 else "The factors "
            sentence += (factors, *named[1:], f" {verb} reused from step {number}, the node partials for ", param, ". ")
        return sentence

    def node_partials_step(self, new_partials: list[Partial], reused: tuple) -> None:
        """The step that works out each new node partial of a chain, and says which ones it takes from above."""
        model = self.model
        explanation: tuple = (*reused, "The new ones, each node's output differentiated by its input, in "
                                       "forward-pass values.") if reused else (
            "The partial derivative of each node's output with respect to its input, in forward-pass values.",)
        if any(model.node(f.of) is not None and model.node(f.of).expr.has(relu) for f in new_partials):
            explanation += (" ReLU has no derivative at 0; its subgradient there is taken as 0, so "
                            "ReLU'(z) = 1[z > 0].",)
        equations = [self.node_partial(f) for f in new_partials]
        for factor, equation in zip(new_partials, equations, strict=False):
            if equation is None:  # ∂Loss/∂a₂ = ∂Loss/∂a₂ would say nothing
                explanation += (" The factor ", factor, " stays as it is: the loss is a function left unnamed.")
        self.builder.step("Node partials", explanation, *(equation for equation in equations if equation is not None))

    def why_summed(self, path: Path) -> tuple:
        """Why the chain sums over some units: name the node whose every unit depends on the quantity below it."""
        why: tuple = ()
        for index, _, _ in path.sums:
            for child, parent in path.edges:
                if index in sp.sympify(child).free_symbols and index not in sp.sympify(parent).free_symbols:
                    why += (" Every ", child, " depends on ", parent, ", so the chain runs through all of them and "
                            "sums "
                            "over ", index, "; a single path through one unit would miss the others.")
                    break
        return why

    def node_partial(self, factor: Partial) -> Equation | None:
        """``factor`` = its derivative written out = its value in forward-pass values; None when there is nothing
        to write out (the partial of a loss left as an unnamed function is itself)."""
        model = self.model
        unevaluated = self.in_forward_order(factor, model.partial_unevaluated(factor.of, factor.wrt))
        local, local_form = self.local_partial(factor)
        forms: list[sp.Expr] = []
        earlier = [limit for total in unevaluated.atoms(sp.Sum) for limit in total.limits]
        shaped_local = model.readable_sums(handout_form(local, model.label, model.notation.label_first), earlier)
        for candidate in (unevaluated, shaped_local, local_form):
            if not forms or candidate != forms[-1]:
                forms.append(candidate)
        forms = list(dict.fromkeys(forms))
        if len(forms) == 1 and _is_unnamed_partial(forms[0], factor):
            return None
        return Equation(factor, tuple(forms))

    def in_forward_order(self, factor: Partial, derivative: sp.Expr) -> sp.Expr:
        """The derivative along an edge, over the node's definition as the forward pass writes it (∂/∂w_1 of x w_1),
        not in SymPy's sorted order (w_1 x); a derivative through several nodes stays as it is."""
        node = self.model.node(factor.of)
        if node is None or not isinstance(derivative, sp.Derivative):
            return derivative
        if canonical_sums(derivative.expr) != canonical_sums(node.value):
            return derivative
        avoid = set().union(*(v.free_symbols for v in derivative.variables), node.expr.free_symbols)
        renamed = {total: fresh_bound_indices(total, avoid=avoid) for total in node.expr.atoms(sp.Sum)}
        return sp.Derivative(substitute(node.expr, renamed), *derivative.variable_count)  # keeps the written order

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
            forms = [f for f in forms if f not in carrying] + [sp.Sum(self.chained(_pull_sign(carrying)), limit)]
        return self.chained(_pull_sign(forms))

    def chained(self, signed: sp.Expr) -> sp.Expr:
        """Mark a product of chain factors (behind its sign, if any) as a chain for the printers; returns it."""
        self.builder.chain(negate(signed) if is_negated(signed) else signed)
        return signed

    def show_merge(self, outer: Partial, inner: Partial, outer_form: sp.Expr, inner_form: sp.Expr, merged: sp.Expr,
                   sums: list | None = None) -> None:
        combined = Partial(outer.of, inner.wrt)
        if combined in self.shown_merges:
            return
        self.shown_merges.add(combined)
        sums = sums or []
        explanation: tuple = ("The loss's partial and the output activation's partial cancel into a short error "
                              "signal at ",
                              inner.wrt, ".")
        for total, value in self.model.assumptions.items():
            explanation += (" The label is one-hot, so ", sp.Eq(total, value, evaluate=False), ".")
        chain = self.builder.chain(product(outer, inner))
        chain_form = self.builder.chain(product(outer_form, inner_form))
        self.builder.step(
            ("The error signal at ", inner.wrt),
            explanation,
            Equation(combined, (_summed(chain, sums), _summed(chain_form, sums), merged)),
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
            self.builder.result(Result(name=f"grad_{vector}", kind="gradient", lhs=target,
                                       value=model.vector_form(result.value), form=form))

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
                Result(name=f"update_{param}", kind="update", lhs=param, value=param - alpha * result.value,
                       form=rhs[-1], relation=ASSIGN)
            )
        self.builder.step(
            "Gradient-descent update",
            ("Step each parameter against its gradient, with step size ", alpha, "."),
            *equations,
        )


def _joiner(position: int, count: int) -> str:
    """What goes before the ``position``-th of ``count`` names in a list: "", ", " or " and "."""
    if position == 0:
        return ""
    return " and " if position == count - 1 else ", "


def _as_text(text: str | tuple) -> tuple:
    return (text,) if isinstance(text, str) else tuple(text)


def _is_unnamed_partial(form: sp.Expr, factor: Partial) -> bool:
    """Whether ``form`` is ∂Loss(a_2, y)/∂a_2 for an unnamed function Loss: printed, it is ``factor`` again."""
    return (isinstance(form, sp.Derivative) and isinstance(form.expr, sp.core.function.AppliedUndef)
            and len(form.expr.args) > 1 and type(form.expr).__name__ == str(factor.of))


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
    builder.step(
        "Differentiate",
        _reciprocal_rule_explanation(gamma),
        Equation(s_prime, _reciprocal_rule(builder, gamma)),
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
        ("Recognise ", s, " and ", sp.Add(1, -s, evaluate=False)),
        "Adding and subtracting 1 in the second numerator shows it is 1 minus the first fraction.",
        Equation(second, (sp.Mul(sp.Add(1 + sp.exp(-gamma), -1, evaluate=False),
                                 sp.Pow(1 + sp.exp(-gamma), -1, evaluate=False), evaluate=False),
                          one_minus, sp.Add(1, -s, evaluate=False))),
        Equation(first, (s,)),
    )
    identity = product(s, sp.Add(1, -s, evaluate=False))
    builder.step("Result", "Substitute both recognitions.", Equation(s_prime, (identity,)))
    builder.result(Result(name="ds/dgamma", kind="identity", lhs=s_prime, value=s * (1 - s), form=identity))
    return builder.build()


def _reciprocal_rule(builder: DerivationBuilder, gamma: sp.Symbol) -> tuple[sp.Expr, ...]:
    """d/dγ 1/(1 + e^{-γ}) by the chain rule on the reciprocal 1/u, step by step as the handout writes it:
    the outer derivative -1/u² times the inner one, du/dγ, first unevaluated and then worked out."""
    inner = sp.Add(1, sp.exp(-gamma), evaluate=False)
    outer = sp.Pow(sp.Pow(inner, 2, evaluate=False), -1, evaluate=False)  # 1/u²

    def minus_outer_times(factor: sp.Expr) -> sp.Expr:
        return negate(builder.chain(product(outer, factor)))

    return (
        sp.Derivative(sp.Pow(inner, -1, evaluate=False), gamma),
        minus_outer_times(sp.Derivative(inner, gamma)),
        minus_outer_times(negate(sp.exp(-gamma))),
        sp.Mul(sp.exp(-gamma), outer, evaluate=False),
    )


def _reciprocal_rule_explanation(gamma: sp.Symbol) -> tuple:
    """Why the step holds, in words around the pieces it uses: the reciprocal's derivative and the inner function.
    (No relation in the prose: a reader's answer key is checked formula by formula, and u is none of its names.)"""
    u = sp.Symbol("u")
    inner = sp.Add(1, sp.exp(-gamma), evaluate=False)
    return ("The chain rule on the reciprocal: the derivative of ", 1 / u, " is ", -1 / u**2, ", taken at ", u,
            " equal to ", inner, " and multiplied by the derivative of ", inner, " itself.")
