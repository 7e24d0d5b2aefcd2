"""Worked numbers in a key: ``h = s(0) = 0.5``, ``\\frac{\\partial E}{\\partial w_2} = (0 - 1)(1 - 0^2) \\cdot 0 = 0``.

A key that works an example writes numbers for its quantities.  Such a line claims no formula about the
model; what it does claim is arithmetic: each side that is only numbers must equal the next one.  That is
checked where every value in it is given (two or more sides of numbers), with the precision the key wrote
(0.731 for s(1) is right to three decimals); a single number for a quantity is left to the model checks,
which call it a given or worked value.  The functions a key applies to numbers are the sigmoid (s, σ,
sigmoid, g when the key says so), tanh, exp and log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.model.functions import relu, sigmoid, softplus

#: What a function applied to a number means, by the name the key gives it.
NUMERIC_FUNCTIONS = {"s": sigmoid, "sigma": sigmoid, "sigmoid": sigmoid, "softplus": softplus, "relu": relu,
                     "ReLU": relu}
#: Commands and function names that may appear in a side made of numbers (\frac{1}{2}, \ln 0.5, s(0), e^{-1}).
_NUMERIC_WORDS = re.compile(r"\\[A-Za-z]+|\b(?:ln|log|exp|tanh|sigmoid|sigma)\b"
                            r"|\b[a-zA-Z](?:_\{?[A-Za-z0-9]+\}?)?(?=\s*(?:\\left)?\s*\()|\be\b")
_DECIMALS = re.compile(r"^\s*-?\s*\d*\.(\d+)\s*$")


@dataclass(frozen=True)
class Arithmetic:
    """The verdict on a line of worked numbers: ``correct`` or ``wrong``, and why."""

    verdict: str
    reason: str


def worked_arithmetic(sides: list[sp.Expr | None], written: list[str],
                      functions: dict[str, object]) -> Arithmetic | None:
    """The arithmetic of ``sides`` (a relation's sides, left first, as parsed) when two or more are numbers as
    written; None when the line is no worked example.  ``functions`` are the key's meanings of its function
    names (g bound to the sigmoid)."""
    numbers = []
    for side, text in zip(sides, written, strict=True):
        value = _number(side, text, functions)
        if value is not None:
            numbers.append((value, text))
    if len(numbers) < 2:
        return None
    for (first, first_text), (second, second_text) in zip(numbers, numbers[1:], strict=False):
        tolerance = max(_tolerance(first_text), _tolerance(second_text), 1e-9 * max(abs(first), abs(second), 1))
        if abs(first - second) > tolerance:
            return Arithmetic("wrong", f"the arithmetic is wrong: {_shown(first_text)} is {_figure(first)}, "
                                       f"not {_shown(second_text)}")
    return Arithmetic("correct", "worked numbers: the arithmetic is right (a worked example, not a formula)")


def is_number(side: sp.Expr | None, text: str, functions: dict[str, object] | None = None) -> bool:
    """Whether a side is a number as the key wrote it (0.5, \\frac12, -\\ln 0.5, s(0)): a worked or given value."""
    return _number(side, text, functions or {}) is not None


def _number(side: sp.Expr | None, text: str, functions: dict[str, object]) -> float | None:
    """The side's value when it is written with numbers only, else None."""
    if side is None or re.search(r"[A-Za-z]", _NUMERIC_WORDS.sub("", text)):
        return None

    def meaning(application: AppliedUndef) -> sp.Expr:
        name = type(application).__name__
        function = functions.get(name) or NUMERIC_FUNCTIONS.get(name)
        return function(*application.args) if function is not None else application

    value = side.replace(lambda e: isinstance(e, AppliedUndef), meaning)
    if value.free_symbols or value.has(AppliedUndef):
        return None
    try:
        number = complex(sp.N(value.rewrite(sp.exp), 20))
    except (TypeError, ValueError, ArithmeticError):
        return None
    if abs(number.imag) > 1e-12 or number.real != number.real or abs(number.real) == float("inf"):
        return None
    return number.real


def _tolerance(text: str) -> float:
    """Half a unit in the last decimal the key wrote (0.731: 0.0005, and 0.25 does not round to 0.3); exact for a
    number without decimals."""
    match = _DECIMALS.match(text)
    return 0.5 * 10 ** -len(match.group(1)) * (1 - 1e-9) if match else 0.0


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _figure(value: float) -> str:
    return f"{value:.6g}"
