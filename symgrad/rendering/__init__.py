"""A derivation as people read it: LaTeX, Markdown, text and JSON (``render.py``), through printers that
extend SymPy's (``printing.py``), and as a self-contained web page with MathML (``webpage.py``)."""
