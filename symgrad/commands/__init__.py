"""One module per ``symgrad`` subcommand that is not owned by a larger package."""
