"""Convolution layers: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d`` with PyTorch's parameter names,
shapes, defaults and initialization, so a converted PyTorch ``state_dict`` loads unchanged.

weight: (out_channels, in_channels/groups, *kernel_size) for convolutions,
        (in_channels, out_channels/groups, *kernel_size) for transposed convolutions;
bias: (out_channels,). Both initialized as PyTorch: kaiming_uniform_(a=sqrt(5)) for the weight and
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias.
"""

from __future__ import annotations

import math

from ...ops import convolution as C
from ...ops.creation import empty
from ...ops.shape import pad as _pad
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n: int, name: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"expected {name} to be an int or a tuple of {n} ints, got {value}")
    return value


class _ConvNd(Module):
    _nd = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", output_padding=0,
                 device=None, dtype=None):
        super().__init__()
        nd = self._nd
        name = type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size")
        self.stride = _ntuple(stride, nd, "stride")
        self.dilation = _ntuple(dilation, nd, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of 'valid' or 'same'")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, nd, "padding")
        self.output_padding = _ntuple(output_padding, nd, "output_padding")
        self.transposed = self._transposed
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad arguments (last dim first) for the non-zero padding modes, as PyTorch computes them
        if self.padding == "same":
            rev = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                rev += [total // 2, total - total // 2]
        elif self.padding == "valid":
            rev = [0, 0] * nd
        else:
            rev = [p for p in reversed(self.padding) for _ in range(2)]
        self._reversed_padding_repeated_twice = rev
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty((out_channels,), device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding if isinstance(self.padding, tuple) else repr(self.padding)}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)

    def _conv_forward(self, input, weight, bias):
        fn = (C.conv1d, C.conv2d, C.conv3d)[self._nd - 1]
        if self.padding_mode != "zeros":
            x = _pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(x, weight, bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-d convolution: (N, in_channels, L) -> (N, out_channels, L_out); also unbatched (C, L)."""
    _nd = 1


class Conv2d(_Conv):
    """2-d convolution: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out); also unbatched.

    ``padding``: int, pair, 'valid' or 'same'; ``padding_mode``: 'zeros', 'reflect', 'replicate' or
    'circular'; ``groups=in_channels`` gives a depthwise convolution.
    """
    _nd = 2


class Conv3d(_Conv):
    """3-d convolution: (N, in_channels, D, H, W) -> (N, out_channels, D_out, H_out, W_out)."""
    _nd = 3


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: string padding ({padding!r}) is not supported")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)

    def forward(self, input, output_size=None):
        op = ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")[self._nd - 1]
        return C._conv_transpose(op, self._nd, input, self.weight, self.bias, self.stride, self.padding,
                                 self.output_padding, self.groups, self.dilation, output_size=output_size)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-d convolution: (N, in_channels, L) -> (N, out_channels, L_out),
    L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1."""
    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-d convolution (a.k.a. fractionally strided / "deconvolution"):
    (N, in_channels, H, W) -> (N, out_channels, H_out, W_out); ``forward(x, output_size=...)`` picks
    the output padding for a requested size."""
    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-d convolution: (N, in_channels, D, H, W) -> (N, out_channels, D_out, H_out, W_out)."""
    _nd = 3
