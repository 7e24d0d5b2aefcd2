"""The source tree passes ruff with the project's configuration (pyproject.toml's [tool.ruff]).

The generated modules are linted in test_codegen.py; this is everything written by hand: the package, the
tests, the benchmarks and the scripts.  A finding fails the test with ruff's own report of it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HAND_WRITTEN = ("symgrad", "tests", "benchmarks", "scripts")


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is not installed here (the test extra installs it, and CI runs this)")
def test_the_hand_written_code_passes_ruff():
    folders = [str(REPO / folder) for folder in HAND_WRITTEN if (REPO / folder).is_dir()]
    assert len(folders) == len(HAND_WRITTEN), "a folder to lint is missing"
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(REPO / "pyproject.toml"),
               *folders]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
