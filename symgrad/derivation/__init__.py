"""The derivation and its proofs: ``derive.py`` walks a model's graph and writes the steps a handout shows
(forward pass, loss, chain rule, node partials, results, update) into a ``Derivation`` (``steps.py``); every
equation is proven as it is built (``prove.py``, ``identity.py``); ``forms.py`` shapes expressions the way
the handouts write them, ``sizes.py`` derives a numeric layer size as a symbol, and ``numeric.py`` checks
results at random points."""
