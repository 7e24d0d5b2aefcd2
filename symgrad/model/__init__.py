"""The model and its graph: named nodes over inputs, a label and parameters (``graph.py``), and the activation
and loss library they are built from (``functions.py``).  Everything else in symgrad reads a ``Model``; this
package imports nothing of symgrad's."""
