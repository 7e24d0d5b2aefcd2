"""The errors a user can cause, each printed by the CLI as one line with exit status 2."""

from __future__ import annotations


class UsageError(ValueError):
    """A command line, an input file or an option that symgrad cannot use."""
