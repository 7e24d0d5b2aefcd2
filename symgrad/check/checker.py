"""Checking a whole answer key: statements → claims → the model each is about → verdicts.

The pieces: ``keys.py`` finds the math rows, ``latex.py`` parses one row,
``vocabulary.py`` reads it in a model's symbols, ``judge.py`` decides it.
This module only orders them, attributes each claim to a model, carries a
continuation row's left side forward, and bounds the time spent on a claim and
on the whole key.  Nothing a key holds makes it raise: what symgrad cannot work
with is an ``unrecognized`` verdict with a one-line reason in symgrad's words.
"""

from __future__ import annotations

import contextlib
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.catalogue.models import catalogue_names, derive_named, lookup
from symgrad.check.arithmetic import is_number, worked_arithmetic
from symgrad.check.definitions import ACTIVATION_LETTERS, INDEX_LETTERS, LOSS_NAMES, Binding, one_hot, read_bindings
from symgrad.check.judge import Judge, Judgement
from symgrad.check.keys import Statement, extract
from symgrad.check.sections import Planned, Section, plan
from symgrad.check.vocabulary import SIGMOID_NAMES, UnknownSymbols, Vocabulary
from symgrad.derivation.derive import derive
from symgrad.derivation.steps import Derivation
from symgrad.model.functions import ACTIVATIONS, LOSSES
from symgrad.model.graph import Partial
from symgrad.notation.latex import (
    DEFAULT_FUNCTIONS,
    LatexParseError,
    Relation,
    parse_expression,
    parse_relations,
)

#: seconds one claim may take before it is called unrecognized
CLAIM_SECONDS = 10.0
#: seconds the claims of one key may take together (``symgrad check --time-limit``): the claims left when they
#: are up are called unrecognized, so that 2,000 claims of 10 s each cannot keep a run busy for 5.5 hours
TIME_LIMIT = 60.0

#: extra words in a heading that point at a model (besides the model's own name, spelled with spaces)
HEADING_WORDS = {
    "sigmoid": ("sigmoid", "logistic function"),
    "logistic-regression": ("logistic regression", "optimization", "sgd"),
    "logistic-regression-bias": ("logistic regression", "bias"),
    "two-weight-chain": ("neural", "network", "backprop", "chain"),
    "mlp": ("hidden layer", "multilayer perceptron"),
    "mlp-shared-bias": ("mlp", "hidden layer", "multilayer perceptron", "shared"),
    "softmax-regression": ("softmax",),
    "mlp-softmax": ("mlp", "hidden layer", "multilayer perceptron", "softmax"),
}


def _heading_score(name: str, heading: str) -> int:
    words = {name.replace("-", " "), *HEADING_WORDS.get(name, ())}
    return sum(1 for word in words if word in heading)


@dataclass
class Verdict:
    """One checked statement of the key."""

    line: int
    latex: str
    verdict: str
    reason: str = ""
    expected: str | None = None
    model: str | None = None
    kind: str | None = None
    point: dict[str, float] | None = None
    values: tuple[float, float] | None = None
    #: The LaTeX could not be read (a brace or an argument missing): the key is malformed there, which
    #: ``symgrad check`` reports in its line and in its exit status, as it does a wrong claim.
    malformed: bool = False
    #: Why the claim was judged against ``model``: "definitions" (the key's own), "heading", "option" (--model,
    #: --model-file), "notation" (a derivative of the sigmoid by its usual name) or "symbols" (a guess from its
    #: symbols, which never makes a claim wrong).
    model_from: str | None = None


@dataclass
class Context:
    """A model a claim may be about, with what it takes to judge it.  ``functions`` are the key's own names
    for functions (g_1 bound to tanh, a σ it defined), which the claims of a key-defined model use."""

    name: str
    derivation: Derivation = field(repr=False)
    functions: dict[str, object] = field(default_factory=dict, repr=False)
    key_defined: bool = False

    @cached_property
    def vocabulary(self) -> Vocabulary | None:
        if self.derivation.model is None:
            return None
        vocabulary = Vocabulary.of(self.derivation.model)
        vocabulary.functions.update(self.functions)
        if self.key_defined:  # a key names its free indices as it likes: w_j for the w_i of its own sum
            vocabulary.index_names |= frozenset(INDEX_LETTERS)
        return vocabulary

    @cached_property
    def judge(self) -> Judge:
        return Judge(self.derivation)

    def translate(self, sides: list[sp.Expr]) -> list[sp.Expr]:
        """A claim's sides in the model's own symbols; raises :class:`UnknownSymbols` for what it does not know.

        The sigmoid context has no model to name quantities: a claim in two variables that names no sigmoid and
        takes no derivative (``a = b``) is not about it, and would otherwise be judged an identity and called
        wrong.  One that does (``s'(\\gamma) = s(x)(1 - s(x))``) is judged, and a mismatched variable is wrong.
        """
        if self.vocabulary is not None:
            return [self.vocabulary.translate(side) for side in sides]
        sides = _sigma_applied(sides)
        variables = {s for side in sides for s in side.free_symbols if isinstance(s, sp.Symbol)}
        if len(variables) > 1 and not any(_names_the_sigmoid(side) for side in sides):
            raise UnknownSymbols(", ".join(sorted(map(str, variables))))
        return [_as_sigmoid_identity(side) for side in sides]


def _names_the_sigmoid(expr: sp.Expr) -> bool:
    """Whether ``expr`` applies s / σ / g or takes a derivative: what makes a claim one about the sigmoid."""
    from symgrad.model.graph import Partial

    applied = {type(f).__name__ for f in expr.atoms(AppliedUndef)}
    return bool(applied & set(SIGMOID_NAMES)) or expr.has(sp.Derivative) or expr.has(Partial)


def _sigma_applied(sides: list[sp.Expr]) -> list[sp.Expr]:
    """``\\frac{d\\sigma}{dz} = \\sigma(1 - \\sigma)``: σ written without its argument, in a claim about one other
    variable, is σ of that variable."""
    names = {"sigma", "s"}
    variables = {s for side in sides for s in side.free_symbols if isinstance(s, sp.Symbol) and s.name not in names
                 and not s.is_integer}
    bare = {s for side in sides for s in side.free_symbols if isinstance(s, sp.Symbol) and s.name in names}
    if len(variables) != 1 or not bare:
        return sides
    (variable,) = variables
    applied = {symbol: sp.Function(symbol.name)(variable) for symbol in bare}

    def of_itself(application: AppliedUndef) -> bool:  # σ(1 - σ): σ times (1 - σ), no σ is written of itself
        return type(application).__name__ in {s.name for s in bare} and application.has(*bare)

    def product(application: AppliedUndef) -> sp.Expr:
        return sp.Symbol(type(application).__name__) * sp.Mul(*application.args)

    sides = [side.replace(lambda e: isinstance(e, AppliedUndef) and of_itself(e), product) for side in sides]
    return [side.replace(lambda e: isinstance(e, Partial) and e.of in applied,
                         lambda e: sp.Derivative(applied[e.of], e.wrt)).xreplace(applied) for side in sides]


def _about_the_sigmoid_alone(claim: sp.Expr) -> bool:
    """A claim in one variable that applies σ or s by name: about the function itself, whatever the key's model."""
    variables = {s for s in claim.free_symbols if isinstance(s, sp.Symbol) and not s.is_integer}
    bare = {v for v in variables if v.name in ("sigma", "s")}
    return (len(variables) == 1 and _names_the_sigmoid_by_name(claim)) or (len(variables - bare) == 1 and bool(bare))


def _names_the_sigmoid_by_name(claim: sp.Expr) -> bool:
    """A claim that applies σ, s or "sigmoid" by name (not g): the sigmoid whatever model the key is about."""
    applied = {type(f).__name__ for f in claim.atoms(AppliedUndef)}
    bare = {s.name for s in claim.free_symbols if isinstance(s, sp.Symbol)}
    return bool(applied & {"s", "sigma", "sigmoid"}) or ("sigma" in bare and len(bare) == 2)


def _as_sigmoid_identity(expr: sp.Expr) -> sp.Expr:
    """The sigmoid context: one variable, and s / σ / g meaning the sigmoid."""
    from symgrad.model.functions import sigmoid
    from symgrad.model.graph import Partial

    functions = {type(f).__name__ for f in expr.atoms(AppliedUndef)}
    symbols = {s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    if not functions <= set(SIGMOID_NAMES) or len(symbols) > 1:
        raise UnknownSymbols(", ".join(sorted(functions - set(SIGMOID_NAMES)) or sorted(map(str, symbols))))
    translated = expr.replace(lambda e: isinstance(e, AppliedUndef), lambda e: sigmoid(*e.args))
    return translated.replace(lambda e: isinstance(e, Partial), lambda e: sp.Derivative(e.of, e.wrt))


class Checker:
    """Checks answer keys; ``model`` forces every claim onto one catalogue model (or variant)."""

    def __init__(self, model: str | None = None, options: dict[str, str] | None = None) -> None:
        self.forced = model
        self.options = options or {}
        if model is not None:
            entry, implied = lookup(model)  # an unknown name fails now, with the list of names
            self.forced, self.options = entry.name, {**implied, **self.options}
        self._contexts: dict[tuple, Context] = {}
        self._functions = DEFAULT_FUNCTIONS  # the names applied before "(" (the key's own added as it is read)
        # what the whole key says of its letters, read before its formulas (see verdicts): none until then
        self._indices: frozenset[str] = frozenset()
        self._rows: frozenset[str] = frozenset()
        self._samples: frozenset[str] = frozenset()

    @classmethod
    def for_derivation(cls, derivation: Derivation, label: str | None = None) -> Checker:
        """A checker that judges every claim against one given derivation (a user-defined model's).

        The sigmoid identity stays a fallback, as with ``--model``; ``label`` names the model in verdicts.
        """
        checker = cls()
        checker.forced, checker.options = label or derivation.name, {}
        checker._contexts[(checker.forced, ())] = Context(checker.forced, derivation)
        return checker

    def context(self, name: str, options: dict[str, str]) -> Context:
        key = (name, tuple(sorted(options.items())))
        if key not in self._contexts:
            label = name + "".join(f" --{k.replace('_', '-')} {v}" for k, v in sorted(options.items()))
            # unproven: `symgrad derive` and the test suite prove the catalogue's derivations
            self._contexts[key] = Context(label, derive_named(name, verify=False, **options))
        return self._contexts[key]

    def candidates(self, statement: Statement, claim: sp.Expr) -> list[tuple[str, dict[str, str]]]:
        """(model, options) pairs to try for a claim, most likely first."""
        if self.forced is not None:
            return [(self.forced, self.options), ("sigmoid", {})]
        heading = statement.heading.lower()
        order = [name for name in catalogue_names() if name != "sigmoid"] + ["sigmoid"]  # mlp-shared-bias too
        order.sort(key=lambda name: -_heading_score(name, heading))  # stable: catalogue order breaks ties
        if _is_prime_of_one_variable(claim) or _about_the_sigmoid_alone(claim):
            order.remove("sigmoid")
            order.insert(0, "sigmoid")
        network_options = _options_named_in(heading)
        if _mentions_abstract_functions(claim) or "abstract" in heading:
            network_options = {"activation": "abstract", "loss": "abstract"}
        return [(n, network_options if n == "two-weight-chain" else {}) for n in order]

    def check_text(self, text: str, time_limit: float | None = None) -> list[Verdict]:
        """The verdicts on every statement of an answer key (see :meth:`check_statements`)."""
        return self.check_statements(extract(text), time_limit, read_bindings(text))

    def check_statements(self, statements: Iterable[Statement], time_limit: float | None = None,
                         bindings: Iterable[Binding] = ()) -> list[Verdict]:
        """The verdicts on ``statements``, in order (see :meth:`verdicts`)."""
        return list(self.verdicts(statements, time_limit, bindings))

    def verdicts(self, statements: Iterable[Statement], time_limit: float | None = None,
                 bindings: Iterable[Binding] = ()) -> Iterator[Verdict]:
        """The verdicts on ``statements``, one at a time as each is judged, within ``time_limit`` seconds in all
        (None: no limit).  ``bindings`` are what the key's prose says of its model (:func:`read_bindings`).

        The key is read whole first, to find the model each section defines (``sections.py``); without
        ``--model`` or ``--model-file`` each claim is judged against its section's model where it has one.
        Each claim gets at most CLAIM_SECONDS, and at most what is left of the time limit; once that is up, the
        claims left are unrecognized, with that reason.  A formula whose math is never closed is still reported
        (it costs nothing to), so the exit status still tells a broken key."""
        deadline = None if time_limit is None else time.monotonic() + time_limit
        bindings = list(bindings)
        statements = [replace(s, latex=_unboxed(s.latex)) if "\\boxed" in s.latex else s for s in statements]
        self._functions = DEFAULT_FUNCTIONS | _defined_function_names(statements)
        self._indices = _summed_letters(statements)
        self._rows = _row_vectors(statements)
        self._samples = _sample_letters(statements)
        units = _with_prose_conditions([unit for statement in statements
                                        for unit in self._relations_of(statement, deadline)],
                                       {b.line: b.conditions for b in bindings if b.conditions})
        statements = [statement for statement, _ in units]
        relations = [reading if isinstance(reading, Relation) else None for _, reading in units]
        planned = plan(statements, relations, bindings) if self.forced is None and statements else \
            [None] * len(statements)
        loss_scales: dict[str, str] = {}  # how each loss is defined over the samples, as of the statement read
        previous_lhs: sp.Expr | None = None
        for (statement, reading), where in zip(units, planned, strict=True):
            verdict, lhs = self._check_in_time(statement, previous_lhs, deadline, time_limit, where, reading)
            previous_lhs = lhs  # None after a row that could not be read: its continuations cannot be judged
            loss_scales.update(_loss_scale(reading))
            if verdict is not None:
                yield _against_the_loss_scale(verdict, reading, loss_scales)

    def _relations_of(self, statement: Statement, deadline: float | None
                      ) -> list[tuple[Statement, Relation | BaseException | None]]:
        """Each relation of the statement (a display may hold several: ``a_1 = z_1, \\quad a_2 = \\sigma(z_2)``),
        as a statement of its own with its own LaTeX, or the statement with the error reading it gave (None: not
        read, for want of time or because its math never closes).  Read once, first, so that the key's sections
        can be planned."""
        if statement.problem:
            return [(statement, None)]
        seconds = CLAIM_SECONDS if deadline is None else min(CLAIM_SECONDS, deadline - time.monotonic())
        if seconds <= 0:
            return [(statement, None)]
        try:
            with _time_limit(seconds):
                relations = parse_relations(statement.latex, self._functions, self._indices, self._rows,
                                             self._samples)
        except _OutOfTime:
            return [(statement, None)]
        except Exception as error:  # noqa: BLE001 - untrusted input: reported when the statement is judged
            return [(statement, error)]
        if len(relations) == 1:
            return [(statement, relations[0])]
        starts = [relation.column - 1 for relation in relations] + [len(statement.latex)]
        pieces = [_piece(statement.latex[a:b]) for a, b in zip(starts, starts[1:], strict=False)]
        return [(replace(statement, latex=piece), relation) for piece, relation in zip(pieces, relations, strict=True)]

    def _check_in_time(self, statement: Statement, previous_lhs: sp.Expr | None, deadline: float | None,
                       time_limit: float | None, where: Planned | None = None,
                       reading: Relation | BaseException | None = None) -> tuple[Verdict | None, sp.Expr | None]:
        """:meth:`check_statement` under the claim's time and the key's, and turning whatever goes wrong inside
        SymPy into a one-line verdict: a hostile formula must neither stop the run nor print a traceback."""
        if statement.problem:
            return self.check_statement(statement, previous_lhs, where, reading)
        seconds, by_the_key = CLAIM_SECONDS, False
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return _unrecognized(statement, _past_time_limit(time_limit)), None
            seconds, by_the_key = min(left, CLAIM_SECONDS), left < CLAIM_SECONDS
        try:
            with _time_limit(seconds):
                return self.check_statement(statement, previous_lhs, where, reading)
        except _OutOfTime:
            reason = _past_time_limit(time_limit) if by_the_key else f"checking it took longer than {CLAIM_SECONDS:g} s"
            return _unrecognized(statement, reason), None
        except Exception as error:  # noqa: BLE001 - untrusted input: one odd claim must not stop the run
            return _unrecognized(statement, _cannot_work_with(error)), None

    def check_statement(
        self, statement: Statement, previous_lhs: sp.Expr | None, where: Planned | None = None,
        reading: Relation | BaseException | None = None,
    ) -> tuple[Verdict | None, sp.Expr | None]:
        """The verdict on one statement, and the left side a following continuation row refers to.
        ``reading`` is the statement already parsed (or the error parsing it gave), None to parse it here."""
        if statement.problem:  # its container never closes: where the formula ends is unknown
            reason = f"cannot read the LaTeX: {statement.problem}"
            return Verdict(statement.line, statement.latex, "unrecognized", reason, malformed=True), None
        try:
            if isinstance(reading, BaseException):
                raise reading
            relation = reading if isinstance(reading, Relation) else parse_relations(
                statement.latex, self._functions, self._indices, self._rows, self._samples)[0]
        except LatexParseError as error:
            if error.message.startswith("not an equation"):  # a mention such as $\sum_{l=1}^{C} y_l$
                return None, None
            if error.unsupported:  # valid LaTeX the parser does not read: the tool's limit, not the key's fault
                return Verdict(statement.line, statement.latex, "unrecognized", f"not supported: {error}"), None
            reason = f"cannot read the LaTeX: {error}"
            return Verdict(statement.line, statement.latex, "unrecognized", reason, malformed=True), None
        if where is not None and where.alias is not None and where.relation is None:
            alias = where.alias
            note = f"names {_latex_words(alias)}: each use of the name stands for that derivative"
            return Verdict(statement.line, statement.latex, "correct", note, kind="definition",
                           model_from="definitions"), None
        if where is not None and where.relation is not None:
            relation = where.relation  # with the key's names for derivatives written out
        lhs = relation.lhs
        if lhs is None:
            if previous_lhs is None:
                reason = "a continuation of a row that is missing or could not be read"
                return Verdict(statement.line, statement.latex, "unrecognized", reason), None
            lhs = previous_lhs
        if len(relation.written) == len(relation.rhs):
            functions = where.section.key_model().functions if where is not None and where.section.model else {}
            left_text = statement.latex.split("=", 1)[0] if relation.lhs is not None else ""
            worked = worked_arithmetic([relation.lhs, *relation.rhs], [left_text, *relation.written], functions)
            if worked is not None:
                return Verdict(statement.line, statement.latex, worked.verdict, worked.reason, kind="arithmetic"), lhs
        if where is not None and where.section.model is not None and where.definition is not None:
            return self._definition_verdict(statement, where, relation), lhs
        section = where.section if where is not None else None
        while section is not None:  # its own section's model first, then the models the key defines later
            if section.model is not None:
                verdict = self._judge_in_section(statement, section, lhs, relation)
                if verdict is not None and verdict.verdict == "wrong" and section is not where.section:
                    # a model stated after the claim may be another part's (the same network with a bias):
                    # wrong only when sure, so the claim is not called wrong by it
                    _not_sure(verdict, f"its own part of the key does not judge it; against the model defined "
                                       f"later (line {section.first_line}) it would be wrong ({verdict.reason}), "
                                       f"but that may be another part's model")
                if verdict is not None:
                    return verdict, lhs
            section = section.next
        tail = [(side, text) for side, text in zip(relation.rhs[1:], relation.written[1:], strict=False)
                if not is_number(side, text)]
        if where is not None and where.definition is not None and tail:
            # no model of the key's own to hold the definition: what follows its first side is still a claim
            relation = replace(relation, lhs=relation.rhs[0], rhs=tuple(s for s, _ in tail),
                               written=tuple(t for _, t in tail))
            lhs, where = relation.lhs, replace(where, definition=None)
        claim = sp.Tuple(lhs, *relation.rhs)
        failures = []
        for name, options in self.candidates(statement, claim):
            context = self.context(name, options)
            try:
                translated = context.translate([lhs, *relation.rhs])
            except UnknownSymbols as unknown:
                failures.append(f"{name}: {_one_line(unknown)}")  # a long formula may name hundreds
                continue
            except Exception as error:  # noqa: BLE001 - untrusted input: one odd claim must not stop the run
                failures.append(f"{name}: cannot read it in this model ({_cannot_work_with(error)})")
                continue
            verdict = self._judge(statement, context, translated, relation.relation, relation.written,
                              relation.conditions)
            verdict.model_from = self._bound_by(name, statement, claim)
            if where is not None and where.definition is not None:
                return _definition_never_wrong(verdict, where), lhs
            if verdict.model_from == "heading" and where is not None and where.section.definitions \
                    and where.section.model is None and not self._definitions_hold(context, where.section):
                return _not_the_keys_model(verdict, where), lhs
            return self._only_when_bound(verdict, name), lhs
        reason = "it fits no model: unknown symbols (" + "; ".join(failures) + ")"
        if where is not None and where.section.problem and where.section.definitions:
            reason = f"the key's own definitions make no model ({where.section.problem}); {reason}"
        return Verdict(statement.line, statement.latex, "unrecognized", reason), lhs

    def _definition_verdict(self, statement: Statement, where: Planned, relation: Relation) -> Verdict:
        """A definition is no claim to judge: it states the key's model (and a new one, if it changes it).  What
        follows its first right side is (``a_1 = g_1(z_1) = z_1``): judged, but for worked numbers (``= 0.5``)."""
        section, definition = where.section, where.definition
        tail = [(side, text) for side, text in zip(relation.rhs[1:], relation.written[1:], strict=False)
                if not is_number(side, text, section.key_model().functions)]
        if tail:
            claim = replace(relation, lhs=relation.rhs[0], rhs=tuple(s for s, _ in tail),
                            written=tuple(t for _, t in tail))
            verdict = self._judge_in_section(statement, section, claim.lhs, claim)
            if verdict is not None and verdict.verdict == "wrong":  # h = θ^T x = Σ_{j=0}^{n} θ_j x_j: a notation
                _not_sure(verdict, f"a definition of {definition.name} written two ways that symgrad finds "
                                   f"unequal ({verdict.reason}); a definition is no claim to call wrong")
            if verdict is not None and verdict.verdict != "correct":
                return verdict
        if where.restates:
            note = f"restates the definition of {definition.name} (equal to it)"
        elif where.starts_section:
            note = f"redefines {definition.name}: the claims after it are judged against the model it makes"
        else:
            note = f"defines {definition.name} in the key's own model"
        if section.model is None and section.definitions:
            note += f" (the definitions make no model yet: {section.problem})"
        return Verdict(statement.line, statement.latex, "correct", note, model=section.label, kind="definition",
                       model_from="definitions")

    def _judge_in_section(self, statement: Statement, section: Section, lhs: sp.Expr,
                          relation: Relation) -> Verdict | None:
        """The claim judged against the model its section defines; None when it speaks of other quantities."""
        context = self._section_context(section)
        macros = _macros(section.key_model().macros)
        try:
            translated = context.translate([macros(one_hot(side)) for side in (lhs, *relation.rhs)])
        except Exception:  # noqa: BLE001 - unknown symbols (or odd input): the claim is about something else
            return None
        verdict = self._judge(statement, context, translated, relation.relation, relation.written,
                              relation.conditions)
        verdict.model_from = "definitions"
        return verdict

    def _section_context(self, section: Section) -> Context:
        key = ("section", id(section))
        if key not in self._contexts:
            key_model = section.key_model()
            derivation = derive(key_model.model, verify=False)
            self._contexts[key] = Context(section.label, derivation, dict(key_model.functions), key_defined=True)
        return self._contexts[key]

    def _definitions_hold(self, context: Context, section: Section) -> bool:
        """Whether every definition the key states here holds in ``context``'s model: then the key describes that
        model (in part: a key may define only its loss and name the rest), and a claim may be wrong against it."""
        for definition in section.definitions:
            if definition.kind != "node":
                continue
            try:
                target, value = context.translate([definition.target, definition.value])
                if not context.judge.proven(target, value) and context.judge.differs(target, value) is not None:
                    return False
            except Exception:  # noqa: BLE001 - a definition this model cannot read is not one of its own
                return False
        return True

    def _bound_by(self, name: str, statement: Statement, claim: sp.Expr) -> str:
        """Why a catalogue model was chosen for a claim: an option, a heading, the sigmoid's notation, or a guess."""
        if self.forced is not None:
            return "option"
        if _heading_score(name, statement.heading.lower()) > 0:
            return "heading"
        if name == "sigmoid" and _names_the_sigmoid_by_name(claim):
            return "notation"
        return "symbols"

    def _only_when_bound(self, verdict: Verdict, name: str) -> Verdict:
        """A claim judged only by a guess from its symbols is never called wrong: it may be about another model."""
        if verdict.verdict != "wrong" or verdict.model_from != "symbols":
            return verdict
        others = ", ".join(n for n in catalogue_names() if n != name)[:120]
        _not_sure(verdict, f"no heading, option or definition says which model this is about; judged by its "
                           f"symbols against {name} it would be wrong ({verdict.reason}); it could also be about "
                           f"another model ({others}…): give a heading that names the model, define it, or pass "
                           f"--model")
        return verdict

    def _judge(self, statement: Statement, context: Context, translated: list[sp.Expr], relation: str,
               written: tuple[str, ...], conditions: tuple[sp.Basic, ...] = ()) -> Verdict:
        lhs, members = translated[0], translated[1:]
        judgement: Judgement | None = None
        # z_1 = x w_1 = 0.5: the formula is the claim, and a number the key wrote for a quantity a worked value
        # (1/0 is written as a number, but is none: as a side it is judged, and never finite)
        numbers = [(_NUMBER.fullmatch(text) is not None and member.is_finite is True)
                   or is_number(member, text, context.functions)
                   or not member.free_symbols and member.has(AppliedUndef)  # g_2(-0.6225): a function at a number
                   for text, member in zip(written, members, strict=False)] or [False] * len(members)
        worked_out = all(numbers) and all(not _NUMBER.fullmatch(text.strip()) or "." in text for text in written)
        bare = relation == "=" and (isinstance(lhs, (sp.Symbol, sp.Indexed)) or worked_out)  # ∂L/∂w = 0.5 · 1 ≈ 0.35
        if bare and any(numbers) and all(isinstance(m, (sp.Symbol, sp.Indexed)) or n for m, n in zip(
                members, numbers, strict=False)):
            numbers = [True] * len(members)  # w_1 = w_2 = 0: values given to several quantities at once
        if relation == "<-" and members and all(numbers):  # w ← 0.2 - 0.5·(-0.62): a step worked out in numbers
            return Verdict(statement.line, statement.latex, "unrecognized",
                           "an update with numbers put in, a step worked out at an example's values: symgrad checks "
                           "formulas, not worked examples", kind="value", model=context.name)
        worked = [m for m, number in zip(members, numbers, strict=True) if bare and number]
        formulas = [m for m, number in zip(members, numbers, strict=True) if not (bare and number)]
        try:
            if not formulas:
                judgement = context.judge.given_value(lhs)
            for member in formulas:
                context.judge.written = dict(zip(members, written, strict=False)).get(member, "")
                context.judge.conditions = tuple(conditions)
                judgement = context.judge.judge(lhs, member, relation)
                if judgement.verdict != "correct":
                    break
        except Exception as error:  # noqa: BLE001 - untrusted input: one odd claim must not stop the run
            return Verdict(statement.line, statement.latex, "unrecognized", f"cannot judge it: "
                           f"{_cannot_work_with(error)}", model=context.name)
        assert judgement is not None
        # w^T x = 0, x w_1 = 0: an expression of the key's quantities (no derivative) set to a number, and not true
        # for every input (as Σ_l y_l = 1 is), is a value worked out at the inputs of an example
        plain = relation == "=" and not lhs.has(Partial, sp.Derivative, sp.Subs) and members and all(numbers) \
            and not _constant(lhs)  # σ(z) + σ(-z) = 2 is an identity, wrong for every z: a claim, not a value
        if judgement.verdict == "wrong" and plain:
            judgement = Judgement("unrecognized", "value", (
                f"{context.judge.show(lhs)} set to a number: a value worked out at an example's inputs, which the "
                f"key may have chosen; symgrad checks formulas, not worked examples"))
        unknown = _unknown_functions(context)
        if judgement.verdict == "wrong" and unknown:
            judgement = Judgement("unrecognized", judgement.kind, (
                f"the key's model applies {', '.join(unknown)}, which symgrad does not know: define it (as "
                f"{unknown[0]}(u) = \\frac{{1}}{{1+e^{{-u}}}}, say) and the claim is judged; by the derivative of an "
                f"unknown function it would be wrong ({judgement.reason})"))
        if judgement.verdict == "correct" and len(formulas) < len(members):
            unchecked = ", ".join(context.judge.show(m) for m in worked)
            judgement.reason = "; ".join(filter(None, [judgement.reason, f"{unchecked}: a worked value, not checked"]))
        return Verdict(statement.line, statement.latex, judgement.verdict, judgement.reason, judgement.expected,
                       context.name, judgement.kind, judgement.point, judgement.values)


def _unknown_functions(context: Context) -> list[str]:
    """The functions the key's model applies without saying what they are, under names of their own
    (``\\operatorname{sigm}``, ``\\mathrm{act}``): a derivative through one is no derivative symgrad can check.
    The handouts' abstract activations (g, g_1, f) are meant as unknown functions, and are not listed."""
    model = context.derivation.model
    if model is None:
        return []
    applied = {type(f).__name__ for node in model.nodes for f in node.expr.atoms(AppliedUndef)}
    return sorted(name for name in applied if not ACTIVATION_LETTERS.match(name) and name not in LOSS_NAMES)


#: A number as a key writes one: 0.5, -3, 1e-3, \frac{1}{2}, \tfrac12.
_NUMBER = re.compile(r"-?\s*(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
                     r"|-?\s*\\[dt]?frac\s*(?:\{\s*\d+\s*\}|\d)\s*(?:\{\s*\d+\s*\}|\d)")


#: ``h_\\theta(x) =``, ``f_1(w) :=`` at the start of a formula: a name the key defines as a function of its arguments.
_FUNCTION_DEFINED = re.compile(r"^\s*((?:\\[A-Za-z]+|[A-Za-z])(?:_\{?\\?[A-Za-z0-9]+\}?)?)\s*(?:\\left)?\(")


#: ``\sum_{c=1}^{C}``, ``\sum_c``: the letter a sum runs over.
_SUMMED = re.compile(r"\\(?:sum|prod)_(?:\{\s*([A-Za-z])\s*(?:=|\}|\\in\b|\\neq?\b)|([A-Za-z])(?![A-Za-z]))")


def _summed_letters(statements: list[Statement]) -> frozenset[str]:
    """The letters the key sums over anywhere: each indexes the key's quantities everywhere (a class c, as
    ``\\sum_{c=1}^{C} t_c = 1`` says, makes z_c the c-th score), besides the usual i, j, k, l…  Letters that
    name something else in the key (c for a bias, e for Euler's number) are not index letters unless summed."""
    letters = {braced or bare for statement in statements for braced, bare in _SUMMED.findall(statement.latex)}
    return frozenset(letters - {"e"})


def _constant(expr: sp.Expr) -> bool:
    """Whether ``expr`` takes one value wherever it is evaluated (at two random points, to 1e-9): a claim about it
    set to a number is an identity to judge, not a value worked out at an example's inputs.  Unsure is False."""
    rng = random.Random(7)
    leaves = list(expr.atoms(sp.Indexed)) + [s for s in expr.free_symbols if not any(
        s in indexed.free_symbols for indexed in expr.atoms(sp.Indexed))]
    try:
        values = [complex(sp.N(expr.xreplace({leaf: sp.Float(rng.uniform(0.3, 1.7)) for leaf in leaves})
                               .rewrite(sp.exp), 15)) for _ in range(2)]
    except (TypeError, ValueError, ArithmeticError):
        return False
    return abs(values[0] - values[1]) <= 1e-9 * max(1.0, abs(values[0]))


def _loss_scale(relation: object) -> dict[str, str]:
    """How a definition of a loss takes it over the samples: "mean" (J = \\frac{1}{m}\\sum_i …) or "total"
    (J = \\sum_i …); nothing for any other statement, or a loss written per sample.  Read in the key's order, so
    that each claim is held to the definition before it (part (b) may define the loss again, otherwise)."""
    if not isinstance(relation, Relation) or relation.relation != "=" or len(relation.scales) < 2:
        return {}
    name = _loss_name(relation.lhs)
    if name is None or relation.scales[1] not in ("mean", "total") or relation.lhs.has(Partial, sp.Derivative):
        return {}  # E_n = …: one sample's loss says nothing of how E takes the samples
    return {name: relation.scales[1]}


def _loss_name(expr: sp.Expr | None) -> str | None:
    """The loss a side names: J, J(θ) or L (a name of :data:`LOSS_NAMES`), else None."""
    if isinstance(expr, AppliedUndef):
        expr = sp.Symbol(type(expr).__name__)
    if isinstance(expr, sp.Symbol) and expr.name in LOSS_NAMES:
        return expr.name
    return None


def _against_the_loss_scale(verdict: Verdict, reading: object, scales: dict[str, str]) -> Verdict:
    """A derivative of a loss the key defines as a mean over the samples, stated as a total (the 1/m dropped), or
    the other way round, is wrong, though each sample's term is right: the per-sample reading cannot tell them
    apart, the loss's definition can."""
    if verdict.verdict != "correct" or not isinstance(reading, Relation) or len(reading.scales) < 2:
        return verdict
    lhs = reading.lhs
    if not isinstance(lhs, Partial) or reading.relation != "=" or reading.scales[0] == "sample":
        return verdict  # ∂J/∂h^{(i)}: by one sample's quantity, whose 1/m is its own
    loss = _loss_name(lhs.args[0])
    defined = scales.get(loss) if loss is not None else None
    # a side written with partials (Σ_i ∂J/∂h^{(i)} ∂h^{(i)}/∂w) carries the loss's own 1/m in them
    stated = [scale for scale, side in zip(reading.scales[1:], reading.rhs, strict=False)
              if scale in ("mean", "total", "unsummed") and not side.has(Partial, sp.Derivative)]
    if defined is None or not stated or all(scale == defined for scale in stated):
        return verdict
    if "unsummed" in stated:
        reason = (f"the sum over the samples is missing: {loss} is defined as the {defined} over the samples, and "
                  f"this gradient divides one sample's term by their number without summing")
    elif defined == "mean":
        reason = (f"a factor 1/m is missing (one over the number of samples): {loss} is defined as the mean over "
                  f"the samples, and this gradient sums over them without dividing")
    else:
        reason = (f"an extra factor 1/m (one over the number of samples): {loss} is defined as the sum over the "
                  f"samples, and this gradient divides by their number")
    return replace(verdict, verdict="wrong", reason=reason, kind="scale")


#: ``\sum_{n=1}^{N}``: a sum over the N samples.
_SUM_OVER_SAMPLES = re.compile(r"\\sum_\{\s*([A-Za-z])\s*=\s*1\s*\}\^\{?\s*N\b")


def _sample_letters(statements: list[Statement]) -> frozenset[str]:
    """The letters the key writes as a subscript for the sample, as Bishop does (x_n, t_n, y_n; x^{(n)} is read
    the same way): a letter that a sum runs over from 1 to N, that subscripts both the input (x_n, \\mathbf{x}_n)
    and the label (t_n, y_n), and no weight or bias (w_j, b_j: then it counts units, however many there are)."""
    text = " ".join(statement.latex for statement in statements)

    def subscripts(letters: str, letter: str) -> bool:
        return re.search(rf"(?<![A-Za-z\\])(?:{letters})\}}?_\{{?\s*{letter}(?![A-Za-z])", text) is not None

    return frozenset(letter for letter in set(_SUM_OVER_SAMPLES.findall(text))
                     if subscripts(r"x|\\mathbf\{x", letter) and subscripts("t|y", letter)
                     and not subscripts(r"w|v|b|c|\\theta|\\beta|\\mathbf\{w", letter))


#: ``w_{cj}``, ``w_{c,j}``: a component with two indices, as (w, c).
_TWO_INDEX_COMPONENT = re.compile(r"(?<![A-Za-z\\])([A-Za-z]+)_\{\s*([A-Za-z])\s*,?\s*[A-Za-z]\s*\}")
#: ``\mathbf{w}_c``: a vector named by its own subscript.
_SUBSCRIPTED_VECTOR = re.compile(r"\\(?:mathbf|boldsymbol|vec)\{\\?([A-Za-z]+)\}_\{?([A-Za-z])\}?")


def _row_vectors(statements: list[Statement]) -> frozenset[str]:
    """The vectors ``\\mathbf{w}_c`` that the key writes as rows of a matrix: somewhere it names a component
    ``w_{cj}`` with the vector's own subscript first (softmax weights per class, as many courses write them).
    Without that, w_c is a column, w_{jc}, as symgrad's catalogue has it."""
    text = " ".join(statement.latex for statement in statements)
    components = set(_TWO_INDEX_COMPONENT.findall(text))  # (w, c) for each w_{cj}: one pass, however long the key
    return frozenset(letter for letter, own in set(_SUBSCRIPTED_VECTOR.findall(text)) if (letter, own) in components)


def _defined_function_names(statements: list[Statement]) -> frozenset[str]:
    """The names a key writes as functions where it defines them (``h_\\theta(x) = \\theta^T x``), as the parser
    names them: read with them as functions, h_θ(x) is h_θ of x everywhere, not h_θ times x."""
    names = set()
    for statement in statements:
        match = _FUNCTION_DEFINED.match(statement.latex)
        if match is None or "=" not in statement.latex:
            continue
        try:
            name = parse_expression(match.group(1))
        except LatexParseError:
            continue
        if isinstance(name, sp.Symbol) and not name.is_integer:
            names.add(name.name)
    return frozenset(names)


def _unboxed(latex: str) -> str:
    """``\\boxed{…}`` (an exam's boxed answer) as its content."""
    while (start := latex.find("\\boxed")) >= 0:
        opening = latex.find("{", start)
        if opening < 0:
            return latex
        depth, end = 0, opening
        for end in range(opening, len(latex)):
            depth += {"{": 1, "}": -1}.get(latex[end], 0)
            if depth == 0:
                break
        latex = latex[:start] + latex[opening + 1:end] + latex[end + 1:]
    return latex


#: Lines a side condition written before a display ("for $l \\ne k$,") may stand above the claim it restricts.
CONDITION_REACH = 3


def _with_prose_conditions(units: list[tuple[Statement, Relation | BaseException | None]],
                           conditions: dict[int, tuple[sp.Basic, ...]]
                           ) -> list[tuple[Statement, Relation | BaseException | None]]:
    """Attach a side condition the prose states ("off the diagonal, for $l \\ne k$,") to the claim right after
    it (within CONDITION_REACH lines, and before any other claim), which holds only there."""
    kept: list[tuple[Statement, Relation | BaseException | None]] = []
    lines = sorted(conditions)
    for statement, reading in units:
        before = [line for line in lines if line <= statement.line]
        if before and isinstance(reading, Relation) and statement.line - before[-1] <= CONDITION_REACH:
            if not any(before[-1] < kept_statement.line for kept_statement, _ in kept):
                reading = replace(reading, conditions=(*reading.conditions, *conditions[before[-1]]))
        kept.append((statement, reading))
    return kept


def _piece(latex: str) -> str:
    """One relation's LaTeX cut from a display: without the separators around it (, ; \\quad \\text{and})."""
    text = latex.strip()
    text = re.sub(r"^(?:[,;]|\\q?quad|\\text\{[^}]*\}|\\[,;:! ]|\s)+", "", text)
    return re.sub(r"(?:[,;.]|\\q?quad|\\text\{[^}]*\}|\\[,;:! ]|\s)+$", "", text) or latex.strip()


def _latex_words(alias) -> str:
    from symgrad.rendering.printing import printers_for

    return printers_for(None)[0].doprint(alias.value)


def _macros(definitions: dict[sp.Expr, sp.Expr]) -> Callable[[sp.Expr], sp.Expr]:
    """Write the key's names the model does not keep (δ_j, an error term ε) out as their values, under whatever
    index a claim uses."""

    def expand(expr: sp.Expr) -> sp.Expr:
        scalars = {t: v for t, v in definitions.items() if not isinstance(t, sp.Indexed)}
        if scalars:
            expr = expr.xreplace(scalars)
        for target, value in definitions.items():
            if not isinstance(target, sp.Indexed):
                continue
            for used in expr.atoms(sp.Indexed):
                if used.base == target.base and len(used.indices) == len(target.indices):
                    expr = expr.xreplace({used: value.xreplace(dict(zip(target.indices, used.indices, strict=True)))})
        return expr

    return expand if definitions else (lambda expr: expr)


def _not_sure(verdict: Verdict, reason: str) -> Verdict:
    """A wrong verdict that rests on a guess (a model chosen by symbols or a heading, a later part's model, a
    definition written two ways): unrecognized, with ``reason`` saying what it would be and why it is not
    called wrong.  Wrong only when sure."""
    verdict.verdict = "unrecognized"
    verdict.reason = reason
    return verdict


def _not_the_keys_model(verdict: Verdict, where: Planned) -> Verdict:
    """A key that defines a model of its own, which symgrad could not build: a catalogue model chosen by its
    heading may not be the one it defines, so a claim that is wrong there is not called wrong."""
    if verdict.verdict == "wrong" and verdict.model_from != "option":
        _not_sure(verdict, f"the key defines a model of its own, which symgrad cannot build "
                           f"({where.section.problem}); against {verdict.model} (chosen by its "
                           f"{verdict.model_from}) it would be wrong: {verdict.reason}")
    return verdict


def _definition_never_wrong(verdict: Verdict, where: Planned) -> Verdict:
    """A definition the key states, judged against a catalogue model for want of a model of the key's own: where
    the two differ, the key defines something else, which is no mistake."""
    if verdict.verdict == "wrong":
        _not_sure(verdict, f"a definition of {where.definition.name}, which differs from {verdict.model}'s "
                           f"({verdict.reason}); the key's own definitions make no model to judge it against "
                           f"here ({where.section.problem})")
    return verdict


def _unrecognized(statement: Statement, reason: str) -> Verdict:
    """A verdict that leaves the exit status alone: symgrad's limit (time, size), not a mistake in the key."""
    return Verdict(statement.line, statement.latex, "unrecognized", reason)


def _past_time_limit(time_limit: float | None) -> str:
    """The reason of a claim left when the key's time is up: it names the way to give it more."""
    return (f"not checked: the time limit for the whole key ({time_limit:g} s) was reached "
            "(symgrad check --time-limit gives it more)")


def _cannot_work_with(error: BaseException) -> str:
    """Why symgrad gave up on a formula, in symgrad's words: SymPy's own message names its internals (and may run
    over many lines), which say nothing to the author of a key."""
    if isinstance(error, RecursionError):
        return "it is nested too deeply, or too long, for symgrad to work with"
    if isinstance(error, (MemoryError, OverflowError)):
        return "its numbers or terms are too large for symgrad to work with"
    return "symgrad cannot work with this formula"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) < 160 else text[:157] + "..."


def _options_named_in(heading: str) -> dict[str, str]:
    """A network's loss and activation, when a heading names them ("… with the cross-entropy loss")."""
    options = {}
    for loss in LOSSES:
        if loss in heading or loss.replace("-", " ") in heading:
            options["loss"] = loss
    for activation in ACTIVATIONS:
        if activation != "sigmoid" and re.search(rf"\b{activation}\b", heading):
            options["activation"] = activation
    return options


def _is_prime_of_one_variable(claim: sp.Expr) -> bool:
    lhs = claim.args[0]
    return isinstance(lhs, sp.Derivative) and len(lhs.free_symbols) == 1


def _mentions_abstract_functions(claim: sp.Expr) -> bool:
    """Whether the claim's right side speaks of g_1, g_2 or Loss(·, ·) as unknown functions.

    Only the right side counts: ``Loss(a_2, y^*) = ½(a_2 - y^*)²`` *chooses* the concrete loss.
    """
    applications = [f for side in claim.args[1:] for f in side.atoms(AppliedUndef)]
    names = {type(f).__name__ for f in applications}
    return bool(names & {"g_1", "g_2"}) or any(len(f.args) > 1 for f in applications)


class _OutOfTime(BaseException):
    """The alarm of :func:`_time_limit`.  Not an Exception, so that no ``except Exception`` on the way (SymPy has
    many) swallows it and lets the work go on past its time."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise _OutOfTime in the block after ``seconds`` (main thread on POSIX; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
