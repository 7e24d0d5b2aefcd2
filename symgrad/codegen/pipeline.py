"""Catalogue name → derivation → plan → source → file, for each target; and the staleness check.

Three targets print the one plan (``lower.py``), for every model that can be lowered: ``numpy``
(``generated/<model>.py``, whole-array NumPy), ``numba`` (``generated/<model>_numba.py``, one compiled loop
over the samples, ``fused.py``) and ``torch`` (``generated/<model>_torch.py``, the NumPy module's lines for
torch tensors).

Every module is rendered in memory first and compiled (:func:`check_source`), and every target path
checked; only when all of them render (every name checked) and every target can take a file (none is a
folder or a FIFO) is anything written, each file atomically.  A file whose bytes already match is left
untouched, so its modification time says when its content last changed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from symgrad.catalogue.models import catalogue_names, derive_named, lookup
from symgrad.codegen.context import build_context
from symgrad.codegen.fused import fused_context
from symgrad.codegen.lower import lower, why_not_generated
from symgrad.codegen.names import TARGETS, module_name
from symgrad.codegen.render import NUMBA_TEMPLATE, NUMPY_TEMPLATE, TORCH_TEMPLATE, render_template
from symgrad.codegen.safe_text import docstring_holds
from symgrad.codegen.torch_context import torch_context
from symgrad.cores import on_every_core
from symgrad.derivation.steps import Derivation
from symgrad.errors import UsageError
from symgrad.files import OutputError, writable_target, write_atomic
from symgrad.model.graph import Model

DEFAULT_OUT = "generated"


@dataclass(frozen=True)
class GeneratedFile:
    """One model's module: where it goes and what happened to it.

    ``status`` is ``written`` or ``unchanged`` (writing), ``current``, ``stale`` or ``missing`` (checking).
    """

    model: str
    path: Path
    status: str
    target: str = "numpy"


def why_not_target(model: Model | None, target: str) -> str | None:
    """Why ``model`` has no module for ``target``, or None when it can have one.

    Every target takes every model that lowers to a Plan; a target that could not print some of them would
    say why here, and ``generate`` would leave those out of it (docs/architecture.md, "A code target").
    """
    return why_not_generated(model)


def skipped(target: str = "numpy") -> dict[str, str]:
    """Each catalogue name that has no ``target`` module, and why (no parameters, abstract functions)."""
    reasons = {}
    for name in catalogue_names():
        entry, options = lookup(name)
        model = entry.builder(**options) if entry.builder is not None else None  # no command needed here
        reason = why_not_target(model, target)
        if reason:
            reasons[name] = reason
    return reasons


def generatable_names(target: str = "numpy") -> list[str]:
    """The catalogue names that get a ``target`` module, in catalogue order."""
    skip = skipped(target)
    return [name for name in catalogue_names() if name not in skip]


def _resolve(names: list[str] | None, targets: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, target) for each module wanted: named models for every target that has them, or all.

    A named model that no asked target can generate is an error; with several targets, a model is
    simply left out of a target that does not take it.
    """
    skips = {target: skipped(target) for target in targets}
    if not names:
        return [(name, target) for target in targets for name in catalogue_names() if name not in skips[target]]
    known = catalogue_names()
    resolved = []
    for target in targets:
        choices = ", ".join(n for n in known if n not in skips[target])
        for name in dict.fromkeys(names):
            if name not in known:
                raise UsageError(f"unknown model {name!r}; choose from {choices}")
            if name not in skips[target]:
                resolved.append((name, target))
            elif len(targets) == 1 or all(name in skip for skip in skips.values()):
                raise UsageError(f"cannot generate {name}{_for(target)}: {skips[target][name]}; choose from {choices}")
    return resolved


def _for(target: str) -> str:
    return "" if target == "numpy" else f" for {target}"


def generate_source(name: str, target: str = "numpy") -> str:
    """The ``target`` module of catalogue model ``name``, as text."""
    _resolve([name], (target,))
    # The same steps as `symgrad derive`, unproven: the test suite and the derive command prove them,
    # and generating the whole catalogue then takes seconds rather than half a minute.
    return derivation_source(_derive(name), name, target=target)


def _derive(name: str) -> Derivation:
    return derive_named(name, verify=False)


def derivation_source(derivation: Derivation, name: str, regenerate: str | None = None, target: str = "numpy") -> str:
    """The ``target`` module of any derived model (a catalogue entry or a user's), as text.

    ``name`` is the model's name in error messages; ``regenerate`` replaces it in the module's
    docstring where the docstring says how to regenerate the module (``--model-file net.toml``).
    """
    reason = why_not_target(derivation.model, target)
    if reason:
        raise UsageError(f"cannot generate {name}{_for(target)}: {reason}")
    plan = lower(derivation, name)
    if target == "numba":
        context, template = fused_context(plan, derivation), NUMBA_TEMPLATE
    elif target == "torch":
        context, template = torch_context(plan, derivation), TORCH_TEMPLATE
    else:
        context, template = build_context(plan, derivation), NUMPY_TEMPLATE
    context["regenerate"] = regenerate if regenerate is not None else name
    source = render_template(template, context)
    check_source(source, name, [derivation.model.description, context["regenerate"]], target)
    return source


def check_source(source: str, name: str, texts: list[str], target: str = "numpy") -> None:
    """Refuse, in one line, a module that does not compile, or whose docstring lost one of ``texts``.

    Every module is checked before it is returned or written.  The user's text (the model's description,
    the model file's path) is escaped for the docstring it goes into (``safe_text.py``); were an escape
    ever missed, the text would break out of the docstring and either fail to compile or run as code when
    the module is imported.  Neither may reach a file.
    """
    try:
        with warnings.catch_warnings():  # an invalid escape ("\\,") is a warning today and an error to come
            warnings.simplefilter("error")
            compile(source, f"<{name}{_for(target)} module>", "exec")
    except (SyntaxError, ValueError, Warning) as error:  # ValueError: a NUL in the source
        where = f", line {error.lineno}" if getattr(error, "lineno", None) else ""
        reason = getattr(error, "msg", None) or str(error)
        raise OutputError(f"cannot generate {name}{_for(target)}: the module would not compile ({reason}{where})") \
            from None
    if not docstring_holds(source, texts):
        raise OutputError(f"cannot generate {name}{_for(target)}: the model's text would not stay in the module's "
                          "docstring")


def write_module(
    name: str, path: Path, source: str, check: bool = False, make_parents: bool = True, target: str = "numpy"
) -> GeneratedFile:
    """Write ``source`` to ``path`` unless it is already there; with ``check``, only say whether it is.

    ``make_parents`` creates a missing output folder (symgrad's own ``generated/``); a file the
    user names (``-o FILE``) must go into a folder that exists.
    """
    planned = plan_module(name, path, source, check, target)
    if planned.status == "written":
        write_atomic(path, source, make_parents=make_parents)
    return planned


def plan_module(name: str, path: Path, source: str, check: bool = False, target: str = "numpy") -> GeneratedFile:
    """What :func:`write_module` would do with ``path``, doing none of it: ``written`` means it is to be written.

    A target that is to be written is checked here (:func:`~symgrad.files.writable_target`), so that a
    command writing several modules can plan them all and refuse a bad one before writing the first.
    """
    try:
        existing = path.read_bytes() if path.is_file() else None
    except OSError as error:  # a name too long for the file system, say
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    new = source.encode("utf-8")
    if check:
        status = "missing" if existing is None else "current" if existing == new else "stale"
    elif existing == new:
        status = "unchanged"
    else:
        writable_target(path)  # a folder or a FIFO where the module goes: refused before anything is written
        status = "written"
    return GeneratedFile(name, path, status, target)


def _model_sources(job: tuple[str, tuple[str, ...]]) -> dict[tuple[str, str], str]:
    """One model derived once and rendered for each of its targets; runs in a worker process."""
    name, targets = job
    derivation = _derive(name)
    return {(name, target): derivation_source(derivation, name, target=target) for target in targets}


def _sources(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The module of each (model, target) in ``wanted``, in that order; the models derive on every core."""
    targets_of: dict[str, list[str]] = {}
    for name, target in wanted:
        targets_of.setdefault(name, []).append(target)
    done: dict[tuple[str, str], str] = {}
    for sources in on_every_core(_model_sources, [(name, tuple(targets)) for name, targets in targets_of.items()]):
        done.update(sources)
    return {key: done[key] for key in wanted}


def generate(
    names: list[str] | None = None,
    out_dir: Path | str = DEFAULT_OUT,
    check: bool = False,
    targets: tuple[str, ...] = tuple(TARGETS),
) -> list[GeneratedFile]:
    """Render the modules of ``names`` (default: every model that has one) for ``targets`` into ``out_dir``.

    With ``check`` nothing is written: each file is reported ``current``, ``stale`` or ``missing``.
    Otherwise every module is rendered and every target checked before the first file is written, so a
    bad target (a folder where a module goes) fails the run with nothing written, not half the set.
    """
    out_dir = Path(out_dir)
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise UsageError(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    wanted = _resolve(names, targets)
    sources = _sources(wanted)
    plan = [
        (plan_module(name, out_dir / f"{module_name(name, target)}.py", source, check, target), source)
        for (name, target), source in sources.items()
    ]
    for planned, source in plan:
        if planned.status == "written":
            write_atomic(planned.path, source, make_parents=True)
    return [planned for planned, _ in plan]
