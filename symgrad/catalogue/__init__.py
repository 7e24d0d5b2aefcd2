"""Where models come from: the built-in catalogue (``names.py``, plain data that the command line reads
without SymPy, and ``models.py``, the builders), ``ModelBuilder`` for models built in Python (``build.py``)
and TOML model files (``modelfile.py``).  Kept free of imports so that ``symgrad --help`` starts at once."""
