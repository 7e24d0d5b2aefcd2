"""Catalogue name → derivation → plan → source → file; and the staleness check.

Every module is rendered in memory first; only when all of them render (every name checked) is
anything written, each file atomically.  A file whose bytes already match is left untouched, so
its modification time says when its content last changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..derivation import Derivation
from ..errors import UsageError
from ..files import write_atomic
from ..models import catalogue_names, derive_named, lookup
from .context import build_context
from .layer_context import layered_context
from .layers import is_layered, lower_layers
from .lower import lower, why_not_generated
from .render import NUMPY_TEMPLATE, render_template

DEFAULT_OUT = "generated"


@dataclass(frozen=True)
class GeneratedFile:
    """One model's module: where it goes and what happened to it.

    ``status`` is ``written`` or ``unchanged`` (writing), ``current``, ``stale`` or ``missing`` (checking).
    """

    model: str
    path: Path
    status: str


def module_name(name: str) -> str:
    """The module for catalogue model ``name``: ``two-weight-chain`` → ``two_weight_chain``."""
    module = name.replace("-", "_")
    if not module.isidentifier():
        raise UsageError(f"cannot generate {name}: {module!r} is not a Python module name")
    return module


def skipped() -> dict[str, str]:
    """Each catalogue name that has no module, and why (no parameters, abstract functions)."""
    reasons = {}
    for name in catalogue_names():
        entry, options = lookup(name)
        model = entry.build(**options) if entry.build is not None else None
        reason = why_not_generated(model)
        if reason:
            reasons[name] = reason
    return reasons


def generatable_names() -> list[str]:
    """The catalogue names that get a NumPy module, in catalogue order."""
    skip = skipped()
    return [name for name in catalogue_names() if name not in skip]


def _resolve(names: list[str] | None) -> list[str]:
    if not names:
        return generatable_names()
    skip = skipped()
    known = catalogue_names()
    choices = ", ".join(n for n in known if n not in skip)
    resolved = []
    for name in names:
        if name not in known:
            raise UsageError(f"unknown model {name!r}; choose from {choices}")
        if name in skip:
            raise UsageError(f"cannot generate {name}: {skip[name]}; choose from {choices}")
        if name not in resolved:
            resolved.append(name)
    return resolved


def generate_source(name: str) -> str:
    """The NumPy module of catalogue model ``name``, as text."""
    (name,) = _resolve([name])
    # The same steps as `symgrad derive`, unproven: the test suite and the derive command prove them,
    # and generating the whole catalogue then takes seconds rather than half a minute.
    return derivation_source(derive_named(name, verify=False), name)


def derivation_source(derivation: Derivation, name: str, regenerate: str | None = None) -> str:
    """The NumPy module of any derived model (a catalogue entry or a user's), as text.

    ``name`` is the model's name in error messages; ``regenerate`` replaces it in the module's
    docstring where the docstring says how to regenerate the module (``--model-file net.toml``).
    """
    if is_layered(derivation.model):  # layers of units, matrix parameters: lowered to whole-array code
        plan, layout = lower_layers(derivation, name)
        context = layered_context(plan, layout, derivation)
    else:
        context = build_context(lower(derivation, name), derivation)
    context["regenerate"] = regenerate if regenerate is not None else name
    return render_template(NUMPY_TEMPLATE, context)


def write_module(name: str, path: Path, source: str, check: bool = False, make_parents: bool = True) -> GeneratedFile:
    """Write ``source`` to ``path`` unless it is already there; with ``check``, only say whether it is.

    ``make_parents`` creates a missing output folder (symgrad's own ``generated/``); a file the
    user names (``-o FILE``) must go into a folder that exists.
    """
    existing = path.read_bytes() if path.is_file() else None
    new = source.encode("utf-8")
    if check:
        status = "missing" if existing is None else "current" if existing == new else "stale"
    elif existing == new:
        status = "unchanged"
    else:
        write_atomic(path, source, make_parents=make_parents)
        status = "written"
    return GeneratedFile(name, path, status)


def generate(
    names: list[str] | None = None, out_dir: Path | str = DEFAULT_OUT, check: bool = False
) -> list[GeneratedFile]:
    """Render the modules of ``names`` (default: every model that has one) into ``out_dir``.

    With ``check`` nothing is written: each file is reported ``current``, ``stale`` or ``missing``.
    """
    out_dir = Path(out_dir)
    sources = {name: generate_source(name) for name in _resolve(names)}
    return [write_module(name, out_dir / f"{module_name(name)}.py", source, check) for name, source in sources.items()]
