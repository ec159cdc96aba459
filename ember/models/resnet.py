"""ResNet (He et al., 2016) with torchvision's module tree, so that a converted torchvision
``state_dict`` loads unchanged: conv1, bn1, layer{1..4}.{i}.{conv1,bn1,conv2,bn2[,conv3,bn3]},
layer{k}.0.downsample.{0 (1x1 conv), 1 (BatchNorm2d)}, fc.

Shapes: (N, 3, H, W) float -> (N, num_classes) logits. Any H, W >= 32 works (the stem divides by 4
and each of layer2..4 by 2; an adaptive average pool makes the head independent of the size).
Parameter counts equal torchvision's (resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032).
"""

from __future__ import annotations

from typing import Callable

from ..autograd.tensor import Tensor
from ..nn import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential
from ..nn import init
from ..ops import shape as S

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> Conv2d:
    """3x3 convolution with padding (no bias: a BatchNorm follows)."""
    return Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                  bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> Conv2d:
    return Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); two 3x3 convs, expansion 1."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Module | None = None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1,
                 norm_layer: Callable[..., Module] | None = None):
        super().__init__()
        norm_layer = norm_layer or BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(Module):
    """1x1 (reduce) -> 3x3 (stride here, as torchvision "ResNet v1.5") -> 1x1 (expand x4), plus shortcut."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Module | None = None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1,
                 norm_layer: Callable[..., Module] | None = None):
        super().__init__()
        norm_layer = norm_layer or BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(Module):
    """ResNet(block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
    replace_stride_with_dilation=None, norm_layer=None), as ``torchvision.models.ResNet``.

    ``width`` (an Ember extension, default 64) scales every stage's channel count (64, 128, 256, 512
    times width/64) for small test models; torchvision's architectures use the default.
    Init as torchvision: convs kaiming-normal (fan_out, relu), norms weight 1 / bias 0, fc PyTorch default.
    """

    def __init__(self, block: type, layers: list[int], num_classes: int = 1000, zero_init_residual: bool = False,
                 groups: int = 1, width_per_group: int = 64, replace_stride_with_dilation: list[bool] | None = None,
                 norm_layer: Callable[..., Module] | None = None, in_channels: int = 3, width: int = 64):
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must list 4 stage depths, got {layers}")
        norm_layer = norm_layer or BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = width
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, got "
                             f"{replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = ReLU(inplace=True)
        self.maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.fc = Linear(width * 8 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, BatchNorm2d) and m.affine:
                init.constant_(m.weight, 1.0)
                init.constant_(m.bias, 0.0)
        if zero_init_residual:  # each residual branch starts as zero, so each block starts as identity
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    init.constant_(m.bn3.weight, 0.0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    init.constant_(m.bn2.weight, 0.0)

    def _make_layer(self, block: type, planes: int, blocks: int, stride: int = 1, dilate: bool = False) -> Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                    norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation,
                        norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))
        return Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"ResNet: expected input of shape (N, C, H, W), got {tuple(x.shape)}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = S.flatten(self.avgpool(x), 1)
        return self.fc(x)


def _with_weights(model: ResNet, weights) -> ResNet:
    """torchvision's ``weights=`` argument, for local files only: a safetensors file or folder (or a
    registered name) loaded with ``load_pretrained``; ``progress`` is accepted and ignored."""
    if weights is None:
        return model
    from .pretrained import load_pretrained
    return load_pretrained(weights, model=model)


def resnet18(*, weights=None, progress: bool = True, num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-18: BasicBlock, stages [2, 2, 2, 2]; 11,689,512 parameters at 1000 classes."""
    return _with_weights(ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, **kwargs), weights)


def resnet34(*, weights=None, progress: bool = True, num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-34: BasicBlock, stages [3, 4, 6, 3]; 21,797,672 parameters at 1000 classes."""
    return _with_weights(ResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes, **kwargs), weights)


def resnet50(*, weights=None, progress: bool = True, num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-50: Bottleneck, stages [3, 4, 6, 3]; 25,557,032 parameters at 1000 classes."""
    return _with_weights(ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs), weights)


def resnet101(*, weights=None, progress: bool = True, num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-101: Bottleneck, stages [3, 4, 23, 3]; 44,549,160 parameters at 1000 classes."""
    return _with_weights(ResNet(Bottleneck, [3, 4, 23, 3], num_classes=num_classes, **kwargs), weights)


def resnet152(*, weights=None, progress: bool = True, num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-152: Bottleneck, stages [3, 8, 36, 3]; 60,192,808 parameters at 1000 classes."""
    return _with_weights(ResNet(Bottleneck, [3, 8, 36, 3], num_classes=num_classes, **kwargs), weights)
