"""The zoo's builders by name: ``get_model("resnet18", num_classes=10)``, ``list_models()``.

``load_pretrained`` uses these names when a weights folder's ``config.json`` says
``{"ember_model": "resnet18", "ember_kwargs": {...}}`` (what ``save_pretrained`` writes).
"""

from __future__ import annotations

from ..nn import Module
from .lenet import LeNet5
from .lstm_classifier import LSTMClassifier
from .mlp import MLP
from .resnet import resnet18, resnet34, resnet50, resnet101, resnet152
from .transformer_classifier import TransformerClassifier
from .vgg import vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = ["MODELS", "get_model", "list_models"]

MODELS = {
    "mlp": MLP, "lenet5": LeNet5,
    "resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50, "resnet101": resnet101,
    "resnet152": resnet152,
    "vgg11": vgg11, "vgg11_bn": vgg11_bn, "vgg13": vgg13, "vgg13_bn": vgg13_bn, "vgg16": vgg16,
    "vgg16_bn": vgg16_bn, "vgg19": vgg19, "vgg19_bn": vgg19_bn,
    "lstm_classifier": LSTMClassifier, "transformer_classifier": TransformerClassifier,
}


def list_models() -> list[str]:
    return sorted(MODELS)


def get_model(name: str, **kwargs) -> Module:
    """Build the zoo model ``name`` (randomly initialized) with constructor ``kwargs``."""
    key = name.lower()
    if key not in MODELS:
        raise ValueError(f"get_model: unknown model {name!r}; available: {', '.join(list_models())}")
    return MODELS[key](**kwargs)
