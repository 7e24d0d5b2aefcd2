"""Model files: a user-defined model in TOML, read into a :class:`~symgrad.graph.Model`.

The schema (documented with an example in ``docs/model-files.md``)::

    name = "three-weight-chain"        # required: letters, digits, '-', '_'
    description = "…"                  # optional
    inputs = ["x"]                     # required: the inputs' names
    label = "y"                        # required: the label's name
    params = ["w1", "w2", "w3"]        # required: derivation and update order
    step_size = "alpha"                # optional, default alpha

    [indices]                          # optional, for layers: i = 1…m, j = 1…k
    i = "m"                            # (then names such as "x[i]", "w[i, j]", "h[j]")
    j = [1, "k"]

    [latex]                            # optional: how a name is written (default: w1 → w_1)
    y = "y^*"

    [nodes]                            # required: name = formula, in forward order
    z1 = "x * w1"
    a1 = "tanh(z1)"

    [loss]                             # required
    name = "Loss"                      # optional, default L
    formula = "quadratic(a1, y)"

This module only reads and checks the file's *shape* (keys, types); the names
and formulas are checked by :class:`~symgrad.build.ModelBuilder`, whose errors
already say which key.  Every problem is one line that starts with the file
name, so the CLI prints it and exits 2.
"""

from __future__ import annotations

import difflib
import shlex
from pathlib import Path
from typing import Any

from symgrad.catalogue.build import DEFAULT_STEP_SIZE, ModelBuilder, ModelError
from symgrad.derivation.steps import Derivation
from symgrad.errors import UsageError
from symgrad.files import read_text
from symgrad.model.graph import Model

try:  # Python 3.11+; tomli is the same parser for 3.10
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - exercised only on Python 3.10
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]

#: A model file is a few dozen lines; anything far larger is not one.
MAX_FILE_CHARACTERS = 200_000
DEFAULT_LOSS_NAME = "L"

#: Every key a model file may have at the top level, and whether it must be there.
TOP_LEVEL = {
    "name": True, "description": False, "indices": False, "inputs": True, "label": True, "params": True,
    "step_size": False, "latex": False, "nodes": True, "loss": True,
}
LOSS_KEYS = {"name": False, "formula": True}


class ModelFileError(UsageError):
    """A model file that cannot be used; the message starts with the file's name."""


def load_model_file(path: Path | str) -> Model:
    """Read, check and build the model in TOML file ``path``; raises :class:`ModelFileError` (or ``OutputError``)."""
    text = read_text(path)
    return parse_model_file(text, str(path))


def parse_model_file(text: str, source: str = "<model file>") -> Model:
    """The model described by TOML ``text``; ``source`` names the file in error messages.

    A leading byte-order mark (text read as ``utf-8`` rather than ``utf-8-sig``) is dropped: TOML
    would refuse it as a stray character before the first key, though it is no part of the file's text.
    """
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_FILE_CHARACTERS:
        raise ModelFileError(f"{source}: larger than {MAX_FILE_CHARACTERS:,} characters; not a model file")
    if tomllib is None:  # pragma: no cover
        raise ModelFileError(f"{source}: reading model files needs Python 3.11 (tomllib) or the tomli package")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ModelFileError(f"{source}: not valid TOML: {error}") from None
    except RecursionError:  # tomllib reads nested arrays and tables recursively: [[[[…]]]] 1,000 deep
        raise ModelFileError(f"{source}: not a model file: its arrays or tables nest too deeply") from None
    try:
        return _build(data)
    except ModelError as error:
        raise ModelFileError(f"{source}: {error}") from None


def derive_model_file(path: Path | str) -> Derivation:
    """Load and derive the model in ``path``; a derivation that fails is a one-line error too."""
    model = load_model_file(path)
    derivation = derive_model(model, str(path))
    derivation.command = shlex.join(["symgrad", "derive", "--model-file", str(path)])  # a path with a space runs too
    return derivation


def derive_model(model: Model, source: str) -> Derivation:
    """``derive(model)``, with any failure turned into one line naming ``source``."""
    from symgrad.derivation.derive import derive

    try:
        return derive(model)
    except RecursionError:
        raise ModelFileError(f"{source}: cannot derive {model.name}: the formulas nest too deeply") from None
    except Exception as error:  # noqa: BLE001 - a user's graph may fail in SymPy; say so in one line, no traceback
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ModelFileError(f"{source}: cannot derive {model.name}: {reason[:300]}") from None


def _build(data: dict[str, Any]) -> Model:
    _check_keys(data, TOP_LEVEL, "")
    latex = _table(data.get("latex", {}), "latex")
    for name, value in latex.items():
        if not isinstance(value, str):
            raise ModelError(f"a LaTeX name must be a string, not {_toml_type(value)}", f"latex.{name}")
    step_size = _string(data.get("step_size", DEFAULT_STEP_SIZE), "step_size")
    net = ModelBuilder(
        _string(data["name"], "name"),
        _string(data.get("description", ""), "description"),
        step_size=step_size,
        step_size_latex=latex.get(step_size),
    )
    for name, extent in _table(data.get("indices", {}), "indices").items():
        start, size = _range(extent, f"indices.{name}")
        net.index(name, size, start)
    inputs = _name_list(data["inputs"], "inputs")
    for name in inputs:
        net.input(name, latex.get(_base(name)))
    label = _string(data["label"], "label")
    net.label(label, latex.get(_base(label)))
    params = _name_list(data["params"], "params")
    for name in params:
        net.param(name, latex.get(_base(name)))
    nodes = _table(data["nodes"], "nodes")
    if not nodes:
        raise ModelError("declare at least one node (name = formula)", "nodes")
    for name, formula in nodes.items():
        net.node(name, _string(formula, f"nodes.{name}"), latex.get(_base(name)))
    loss = _table(data["loss"], "loss")
    _check_keys(loss, LOSS_KEYS, "loss.")
    loss_name = _string(loss.get("name", DEFAULT_LOSS_NAME), "loss.name")
    net.loss(loss_name, _string(loss["formula"], "loss.formula"), latex.get(loss_name))
    declared = {_base(name) for name in (*inputs, label, *params, *nodes, loss_name, step_size)}
    for name in latex:
        if name not in declared:
            raise ModelError(f"{name!r} is not a declared name", f"latex.{name}")
    return net.build()


def _base(name: str) -> str:
    """The name an indexed declaration goes by in [latex]: ``w`` for ``w[i, j]``."""
    return name.split("[", 1)[0].strip()


def _range(extent: Any, key: str) -> tuple[int, str | int]:
    """``"k"`` or ``5`` (from 1), or ``[0, "k"]``: an index's start and size."""
    if isinstance(extent, list):
        if len(extent) != 2 or not isinstance(extent[0], int) or isinstance(extent[0], bool):
            raise ModelError('expected [start, size], such as [1, "k"]', key)
        return extent[0], extent[1]
    if isinstance(extent, (str, int)) and not isinstance(extent, bool):
        return 1, extent
    raise ModelError(f'expected a size ("k" or a number) or [start, size], found {_toml_type(extent)}', key)


def _check_keys(table: dict[str, Any], allowed: dict[str, bool], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {prefix}{close[0]}? " if close else ""
            expected = ", ".join(prefix + k for k in allowed)
            raise ModelError(f"unknown key {prefix}{key!r}; {hint}a model file has {expected}")
    for key, required in allowed.items():
        if required and key not in table:
            raise ModelError(f"missing key {prefix}{key}")


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ModelError(f"expected a string, found {_toml_type(value)}", key)
    return value


def _table(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelError(f"expected a table ([{key}]), found {_toml_type(value)}", key)
    return value


def _name_list(value: Any, key: str) -> list[str]:
    if isinstance(value, str):  # inputs = "x" is one name; accepting it costs nothing
        value = [value]
    if not isinstance(value, list):
        raise ModelError(f"expected an array of names, found {_toml_type(value)}", key)
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise ModelError(f"item {position} is {_toml_type(item)}, not a name in quotes", key)
    return value


def _toml_type(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array", dict: "a table"}
    return next((text for kind, text in names.items() if isinstance(value, kind)), type(value).__name__)
