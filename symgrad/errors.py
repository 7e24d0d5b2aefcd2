"""The errors a user can cause, each printed by the CLI as one line with exit status 2."""

from __future__ import annotations


class UsageError(ValueError):
    """A command line, an input file or an option that symgrad cannot use."""


class UnknownModel(KeyError):
    """A model name, or an option value, that the catalogue does not have."""

    def __str__(self) -> str:  # KeyError quotes its message; a user should not see the quotes
        return str(self.args[0])
