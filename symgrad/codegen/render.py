"""Finding the templates and filling them in.

The templates live at the top of the repository (``templates/<backend>/``).  A wheel ships them
inside the package as ``symgrad/templates`` (``pyproject.toml`` force-includes them), so the lookup
tries the package first and falls back to the repository layout beside the package (a checkout,
an editable install).  Both are found from ``symgrad.__file__``, never from the working directory.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

import symgrad
from symgrad.codegen.safe_text import comment_text, docstring_text
from symgrad.files import OutputError

#: Each target's template: a folder of templates per target.
NUMPY_TEMPLATE = "numpy/module.py.jinja"
NUMBA_TEMPLATE = "numba/module.py.jinja"
TORCH_TEMPLATE = "torch/module.py.jinja"


def template_dirs(package_dir: Path | None = None) -> list[Path]:
    """The template folders that exist, in lookup order: inside the package, then beside it."""
    package_dir = Path(symgrad.__file__).parent if package_dir is None else Path(package_dir)
    candidates = [package_dir / "templates", package_dir.parent / "templates"]
    return [c for c in candidates if c.is_dir()]


@cache
def environment(package_dir: Path | None = None) -> jinja2.Environment:
    """A Jinja environment over the template folders: strict about undefined names, no autoescaping,
    and every line ending kept, so a render is byte-for-byte the same each time.

    Jinja's autoescaping is for HTML; a model's text goes into Python docstrings and comments, through
    the filters ``docstring`` and ``comment`` (``safe_text.py``), which the templates apply to it.
    """
    folders = template_dirs(package_dir)
    if not folders:
        where = Path(symgrad.__file__).parent if package_dir is None else Path(package_dir)
        raise OutputError(f"cannot find symgrad's templates in {where / 'templates'} or {where.parent / 'templates'}")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["docstring"] = docstring_text
    env.filters["comment"] = comment_text
    return env


def render_template(name: str, context: dict, package_dir: Path | None = None) -> str:
    """Fill in template ``name`` (relative to a template folder) with ``context``."""
    try:
        template = environment(package_dir).get_template(name)
    except jinja2.TemplateNotFound:
        raise OutputError(f"cannot find template {name} in {', '.join(map(str, template_dirs(package_dir)))}") from None
    return template.render(**context)
