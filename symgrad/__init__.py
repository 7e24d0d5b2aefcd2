"""symgrad: derive the gradients of small ML models with SymPy, print them as the handouts do,
generate NumPy update code from them, and check answer keys against them."""

__version__ = "0.1.0"

from .build import ModelBuilder, ModelError  # noqa: E402
from .derivation import Derivation, Equation, Result, Step  # noqa: E402
from .derive import derive, derive_sigmoid_identity  # noqa: E402
from .functions import relu, sigmoid  # noqa: E402
from .graph import Model, Node, Notation, Partial  # noqa: E402
from .modelfile import ModelFileError, load_model_file, parse_model_file  # noqa: E402
from .models import CATALOGUE, catalogue_names, derive_named, lookup  # noqa: E402
from .render import render  # noqa: E402

__all__ = [
    "CATALOGUE", "catalogue_names", "derive_named", "Derivation", "Equation", "Model", "ModelBuilder", "ModelError",
    "ModelFileError", "Node", "Notation", "Partial", "Result", "Step", "__version__", "derive",
    "derive_sigmoid_identity", "load_model_file", "lookup", "parse_model_file", "relu", "render", "sigmoid",
]
