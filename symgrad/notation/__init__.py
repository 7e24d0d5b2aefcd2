"""Reading the math that users write: the formulas of model files and ``ModelBuilder`` (``expressions.py``)
and LaTeX, from answer keys and notation (``latex.py``).  Both are parsers over a whitelist, never ``eval``
or ``sympify``: what a user gives is text, and stays text until it has been read."""
