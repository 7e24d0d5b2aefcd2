"""A key split into sections by the model each one defines.

The key is read in order.  Its definitions (``a_1 = \\tanh(z_1)``, ``L = \\frac12(a_2 - y)^2``) and prose
bindings ("g₁ and g₂ are sigmoids") accumulate into the model of the current section; a definition or a
binding that contradicts an earlier one ("Part B: squared loss", a new ``a_1``) starts a new section with
the new model, keeping everything it does not contradict.  The claims of a section tell which quantities
are its parameters (what the key differentiates the loss by, what it updates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.check.definitions import (
    LOSS_NAMES,
    Alias,
    Binding,
    Definition,
    KeyModel,
    KeyModelError,
    Roles,
    alias_in,
    definition_in,
)
from symgrad.check.keys import Statement
from symgrad.check.vocabulary import STEP_NAMES
from symgrad.derivation.identity import Unsupported, sides_agree
from symgrad.model.functions import ACTIVATIONS as KNOWN_ACTIVATIONS
from symgrad.model.graph import Model, Partial
from symgrad.notation.latex import Relation


@dataclass
class Section:
    """One stretch of the key with one model: its definitions, bindings and roles; the model built on demand."""

    number: int
    first_line: int
    definitions: list[Definition] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    roles: Roles = field(default_factory=Roles)
    _key_model: KeyModel | None = None
    _problem: str | None = None
    #: The section after this one: a claim about quantities this section does not define yet (part (b)'s
    #: claims before part (b) redefines the loss) is judged against the first later model that has them.
    next: Section | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return "the key's own model" + (f" (from line {self.first_line})" if self.number > 1 else "")

    def key_model(self) -> KeyModel | None:
        """The section's model, or None when its definitions make none (:attr:`problem` says why)."""
        if self._key_model is None and self._problem is None:
            if not self.definitions:
                self._problem = "the key defines no model here"
                return None
            candidate = KeyModel(self.definitions, self.bindings, self.roles, f"key-section-{self.number}")
            try:
                candidate.build()
            except KeyModelError as error:
                self._problem = str(error)
            except Exception as error:  # noqa: BLE001 - a hostile key's definitions must not stop the run
                self._problem = f"symgrad cannot build a model from its definitions ({type(error).__name__})"
            else:
                self._key_model = candidate
        return self._key_model

    @property
    def problem(self) -> str:
        self.key_model()
        return self._problem or ""

    @property
    def model(self) -> Model | None:
        key_model = self.key_model()
        return key_model.model if key_model is not None else None


@dataclass(frozen=True)
class Planned:
    """What the plan says of one statement: its section, the definition or name it states (if any), and its
    relation with the key's names for derivatives written out (δ_2 → ∂L/∂z_2), or None when it did not parse."""

    section: Section
    definition: Definition | None = None
    restates: bool = False  # a definition equal to one the section already has
    starts_section: bool = False
    relation: Relation | None = None
    alias: Alias | None = None


def plan(statements: list[Statement], relations: list[Relation | None], bindings: Iterable[Binding]) -> list[Planned]:
    """Each statement's section and definition, reading the key in order (see the module docstring)."""
    events = sorted(bindings, key=lambda b: b.line)
    section = Section(1, statements[0].line if statements else 1)
    planned: list[Planned] = []
    pending = list(events)
    aliases: list[Alias] = []
    everywhere = Roles()  # what the whole key differentiates by and updates: its parameters are no nodes
    for relation in relations:
        if relation is not None:
            _read_roles(everywhere, relation)
    parameters = {str(q) for q in everywhere.updated}
    for statement, relation in zip(statements, relations, strict=True):
        while pending and pending[0].line <= statement.line:
            section = _bind(section, pending.pop(0))
        alias = alias_in(relation.lhs, relation.rhs, relation.relation, statement.line) if relation else None
        if alias is not None:
            aliases.append(alias)
            rest = relation.rhs[1:]  # δ_3 = ∂L/∂z_3 = …: what follows the name is a claim about the derivative
            relation = replace(relation, lhs=relation.rhs[0], rhs=rest, written=relation.written[1:]) if rest else None
            if relation is not None:
                _read_roles(section.roles, relation)
            planned.append(Planned(section, relation=relation, alias=alias))
            continue
        if relation is not None and aliases:
            relation = _expanded(relation, aliases)
        chain = _function_chain(relation)
        if chain is not None:  # g_1 = g_2 = \tanh: both activations bound, as prose binds them
            section = _bind(section, Binding(statement.line, activation=chain[1], functions=chain[0]))
            planned.append(Planned(section, Definition(statement.line, relation.lhs, relation.rhs[-1], "function"),
                                   relation=relation))
            continue
        definitions = _chained_definitions(statement, relation) or [_definition(statement, relation)]
        definition = definitions[0]
        if definition is not None and (definition.name in parameters or _gives_values(relation)):
            definitions = [None]  # w_1 = w_2 = 0: values given to parameters, no definition of a node
        restates = starts = False
        for index, stated in enumerate(definitions):
            if stated is None:
                continue
            earlier = next((d for d in reversed(section.definitions) if d.name == stated.name), None)
            if earlier is not None and _same(earlier, stated, section.definitions, _bound_functions(section)):
                restates = restates or index == 0  # the statement restates what its first name defines
                continue
            if earlier is not None or _bound_otherwise(section, stated):
                section = _new_section(section, statement.line, drop=stated.name)
                starts = True
            section.definitions.append(stated)
        definition = definitions[0]
        if relation is not None:
            _read_roles(section.roles, relation)
        planned.append(Planned(section, definition, restates, starts, relation))
    _link(planned)
    return planned


def _link(planned: list[Planned]) -> None:
    sections = list({id(p.section): p.section for p in planned}.values())
    for earlier, later in zip(sections, sections[1:], strict=False):
        earlier.next = later


def _expanded(relation: Relation, aliases: list[Alias]) -> Relation:
    def expand(expr: sp.Expr | None) -> sp.Expr | None:
        if expr is None:
            return None
        for alias in aliases:
            expr = alias.expand(expr)
        return expr

    return replace(relation, lhs=expand(relation.lhs), rhs=tuple(expand(side) for side in relation.rhs))


def _definition(statement: Statement, relation: Relation | None) -> Definition | None:
    """The definition a statement makes with its first right side (``a_1 = g_1(z_1) = z_1`` defines a_1 as
    g_1(z_1); what follows is a claim about it)."""
    if relation is None or not relation.rhs:
        return None
    return definition_in(relation.lhs, relation.rhs[0], relation.relation, statement.line)


def _chained_definitions(statement: Statement, relation: Relation | None) -> list[Definition] | None:
    """``g_1(z) = g_2(z) = \\frac{1}{1+e^{-z}}`` and ``\\phi(u) = \\mathrm{sigm}(u) = …``: every function named
    before the last side is defined as that side (the first right side alone would make g_1 the same unknown
    function as g_2, and drop the formula that says what both are)."""
    if relation is None or relation.lhs is None or relation.relation != "=" or len(relation.rhs) < 2:
        return None
    *named, value = [relation.lhs, *relation.rhs]
    if not all(isinstance(side, AppliedUndef) and side.args == named[0].args for side in named):
        return None
    if value.atoms(AppliedUndef) & set(named) or not value.free_symbols:
        return None
    stated = [definition_in(side, value, relation.relation, statement.line) for side in named]
    return stated if all(d is not None and d.kind == "function" for d in stated) else None


def _bound_otherwise(section: Section, definition: Definition) -> bool:
    """Whether the section's prose already bound the function a definition now defines otherwise ("g_1 and g_2
    are sigmoids", then "now g_1(z) = tanh z"): the definition starts a new part, as a second definition would."""
    if definition.kind != "function":
        return False
    bound = [b for b in section.bindings if b.activation and definition.name in (b.functions or ())]
    if not bound:
        return False
    meant = KNOWN_ACTIVATIONS.get(bound[-1].activation)
    if meant is None or not definition.arguments:
        return False
    return not _agree(meant(definition.arguments[0]), definition.value)


def _function_chain(relation: Relation | None) -> tuple[tuple[str, ...], str] | None:
    """``g_1 = g_2 = \\tanh``: the names a chain of bare names binds, and the library activation it ends in."""
    if relation is None or relation.lhs is None or relation.relation != "=" or not relation.rhs:
        return None
    sides = [relation.lhs, *relation.rhs]
    last = sides[-1]
    if not all(isinstance(side, sp.Symbol) for side in sides) or len(sides) < 3:
        return None
    activation = {"tanh": "tanh", "sigma": "sigmoid", "sigmoid": "sigmoid", "relu": "relu", "ReLU": "relu",
                  "softplus": "softplus"}.get(last.name)
    if activation is None:
        return None
    return tuple(side.name for side in sides[:-1]), activation


def _gives_values(relation: Relation) -> bool:
    """``w_1 = w_2 = 0``: a chain of quantities that ends in a number sets their values."""
    sides = relation.rhs
    return len(sides) >= 2 and all(isinstance(s, (sp.Symbol, sp.Indexed)) for s in sides[:-1]) and sides[-1].is_number


def _new_section(section: Section, line: int, drop: str | None = None, binding: Binding | None = None) -> Section:
    """A section that starts at ``line`` with ``section``'s definitions (less the one redefined) and bindings."""
    definitions = [d for d in section.definitions if d.name != drop]
    bindings = [b for b in section.bindings if binding is None or not _conflict(b, binding)]
    roles = section.roles  # the parameters stay what they were until the new section's claims say more
    inherited = Roles(list(roles.differentiated), list(roles.updated), list(roles.loss_names))
    return Section(section.number + 1, line, definitions, bindings, inherited)


def _bind(section: Section, binding: Binding) -> Section:
    """Add a binding; one that contradicts an earlier one of the section starts a new section."""
    if any(_conflict(earlier, binding) for earlier in section.bindings):
        section = _new_section(section, binding.line, binding=binding)
    section.bindings.append(binding)
    return section


def _conflict(earlier: Binding, later: Binding) -> bool:
    if earlier.step and later.step:
        return earlier.step != later.step
    if earlier.loss and later.loss:
        return earlier.loss != later.loss
    if earlier.activation and later.activation and earlier.activation != later.activation:
        if not later.functions:  # "a linear unit" without a name binds only what nothing bound yet
            return not earlier.functions and earlier.where == later.where
        same_functions = not earlier.functions or set(earlier.functions) & set(later.functions)
        return bool(same_functions) and earlier.where == later.where
    return False


def _bound_functions(section: Section) -> dict[str, object]:
    """The functions the section's prose has bound to a library activation ("g_1 is linear": g_1 → identity)."""
    bound: dict[str, object] = {}
    for binding in section.bindings:
        if binding.activation in KNOWN_ACTIVATIONS:
            bound.update(dict.fromkeys(binding.functions, KNOWN_ACTIVATIONS[binding.activation]))
    return bound


def _same(earlier: Definition, later: Definition, definitions: list[Definition],
          functions: dict[str, object] | None = None) -> bool:
    """Whether a second definition of a name restates the first (``a_2 = σ(w_2 a_1)`` after ``a_2 = σ(z_2)``;
    ``a_1 = z_1`` after ``a_1 = g_1(z_1)`` where the prose said g_1 is linear: ``functions``)."""
    if earlier.value == later.value:
        return True
    if functions:
        def meaning(expr: sp.Expr) -> sp.Expr:
            return expr.replace(lambda e: isinstance(e, AppliedUndef) and type(e).__name__ in functions,
                                lambda e: functions[type(e).__name__](*e.args))

        earlier = replace(earlier, value=meaning(earlier.value))
        later = replace(later, value=meaning(later.value))
        if earlier.value == later.value:
            return True
    if earlier.kind != later.kind:
        return False
    if earlier.kind == "function":
        renamed = later.value.xreplace(dict(zip(later.arguments, earlier.arguments, strict=False)))
        return _agree(earlier.value, renamed)
    others = {sp.Symbol(d.name) if not isinstance(d.target, sp.Indexed) else d.target: d.value
              for d in definitions if d.name != earlier.name and d.kind == "node"}
    return _agree(_composed(earlier.value, others), _composed(later.value, others))


def _composed(expr: sp.Expr, definitions: dict[sp.Expr, sp.Expr], depth: int = 12) -> sp.Expr:
    for _ in range(depth):
        replaced = expr.xreplace(definitions)
        if replaced == expr:
            break
        expr = replaced
    return expr


def _agree(left: sp.Expr, right: sp.Expr) -> bool:
    try:
        return sides_agree(None, left, right)
    except (Unsupported, TypeError, ValueError, ZeroDivisionError, RecursionError):
        return False


def _read_roles(roles: Roles, relation: Relation) -> None:
    """What a claim tells: ∂L/∂θ differentiates the loss by θ, θ ← … updates θ."""
    sides = [side for side in (relation.lhs, *relation.rhs) if side is not None]
    for side in sides:
        limits = [limit for total in side.atoms(sp.Sum) for limit in total.limits]
        bounds = {str(high) for _, _, high in limits}  # Σ_{j=1}^{k}: k counts, it indexes nothing
        roles.indices |= {s.name for s in side.free_symbols if isinstance(s, sp.Symbol) and s.is_integer
                          and s.name not in bounds} | {str(index) for index, _, _ in limits}
        for partial in side.atoms(Partial):
            wrt = partial.wrt
            if isinstance(wrt, (sp.Symbol, sp.Indexed)) and wrt not in roles.differentiated:
                roles.differentiated.append(wrt)
            elif isinstance(wrt, AppliedUndef) and wrt not in roles.through:
                roles.through.append(wrt)  # ∂L/∂σ(z): by a value the key never named
            name = type(partial.of).__name__ if isinstance(partial.of, AppliedUndef) else str(partial.of)
            if name in LOSS_NAMES and name not in roles.loss_names:
                roles.loss_names.append(name)
    lhs = relation.lhs
    if lhs is not None and isinstance(lhs, (sp.Symbol, sp.Indexed)):
        updated = relation.relation == "<-" or any(side.has(lhs) for side in relation.rhs)
        if updated and lhs not in roles.updated:
            roles.updated.append(lhs)
        if updated:
            steps = [s.name for side in relation.rhs for s in side.free_symbols
                     if isinstance(s, sp.Symbol) and s.name in STEP_NAMES]
            roles.step_sizes += [name for name in steps if name not in roles.step_sizes]
