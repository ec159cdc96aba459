"""VGG (Simonyan & Zisserman, 2015) with torchvision's module tree: ``features.N`` (convs, ReLUs,
BatchNorms with ``batch_norm``, max-pools), ``avgpool`` (adaptive to 7x7) and ``classifier.N``
(Linear 25088 -> 4096 -> 4096 -> num_classes with ReLU and Dropout), so that converted torchvision
weights load unchanged.

Shapes: (N, 3, H, W) -> (N, num_classes), any H, W >= 32. Parameter counts equal torchvision's
(vgg11 132,863,336; vgg16 138,357,544; the _bn variants add 2 per conv channel).
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..nn import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, Module, ReLU, Sequential
from ..nn import init
from ..ops import shape as S

__all__ = ["VGG", "make_layers", "cfgs", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn"]

# torchvision's configurations: numbers are conv output channels, "M" a 2x2 max-pool.
cfgs: dict[str, list] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg: list, batch_norm: bool = False, in_channels: int = 3) -> Sequential:
    """The ``features`` stack for a configuration: 3x3 conv (padding 1) [+ BatchNorm2d] + ReLU per
    number, MaxPool2d(2, 2) per "M"."""
    layers: list[Module] = []
    for v in cfg:
        if v == "M":
            layers.append(MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(BatchNorm2d(v))
        layers.append(ReLU(inplace=True))
        in_channels = v
    return Sequential(*layers)


class VGG(Module):
    """VGG(features, num_classes=1000, init_weights=True, dropout=0.5), as ``torchvision.models.VGG``.
    ``features`` must end with 512 channels (as all of ``cfgs`` do)."""

    def __init__(self, features: Module, num_classes: int = 1000, init_weights: bool = True, dropout: float = 0.5):
        super().__init__()
        self.features = features
        self.avgpool = AdaptiveAvgPool2d((7, 7))
        self.classifier = Sequential(
            Linear(512 * 7 * 7, 4096), ReLU(True), Dropout(p=dropout),
            Linear(4096, 4096), ReLU(True), Dropout(p=dropout),
            Linear(4096, num_classes),
        )
        if init_weights:  # torchvision's init: kaiming-normal convs (fan_out), N(0, 0.01) linears, zero biases
            for m in self.modules():
                if isinstance(m, Conv2d):
                    init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        init.constant_(m.bias, 0.0)
                elif isinstance(m, BatchNorm2d):
                    init.constant_(m.weight, 1.0)
                    init.constant_(m.bias, 0.0)
                elif isinstance(m, Linear):
                    init.normal_(m.weight, 0.0, 0.01)
                    init.constant_(m.bias, 0.0)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"VGG: expected input of shape (N, C, H, W), got {tuple(x.shape)}")
        x = self.avgpool(self.features(x))
        return self.classifier(S.flatten(x, 1))


def _vgg(cfg: str, batch_norm: bool, weights=None, progress: bool = True, in_channels: int = 3, **kwargs) -> VGG:
    """``weights``: as torchvision's argument but local only (a safetensors file/folder or registered
    name, loaded with ``load_pretrained``; random init is then skipped); ``progress`` is ignored."""
    if weights is not None:
        kwargs.setdefault("init_weights", False)
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm, in_channels=in_channels), **kwargs)
    if weights is None:
        return model
    from .pretrained import load_pretrained
    return load_pretrained(weights, model=model)


def vgg11(**kwargs) -> VGG:
    """VGG-11 (configuration "A"): 132,863,336 parameters at 1000 classes."""
    return _vgg("A", False, **kwargs)


def vgg11_bn(**kwargs) -> VGG:
    """VGG-11 with BatchNorm: 132,868,840 parameters at 1000 classes."""
    return _vgg("A", True, **kwargs)


def vgg13(**kwargs) -> VGG:
    return _vgg("B", False, **kwargs)


def vgg13_bn(**kwargs) -> VGG:
    return _vgg("B", True, **kwargs)


def vgg16(**kwargs) -> VGG:
    """VGG-16 (configuration "D"): 138,357,544 parameters at 1000 classes."""
    return _vgg("D", False, **kwargs)


def vgg16_bn(**kwargs) -> VGG:
    """VGG-16 with BatchNorm: 138,365,992 parameters at 1000 classes."""
    return _vgg("D", True, **kwargs)


def vgg19(**kwargs) -> VGG:
    return _vgg("E", False, **kwargs)


def vgg19_bn(**kwargs) -> VGG:
    return _vgg("E", True, **kwargs)
