"""Automatic differentiation: Tensor, Function, the backward engine and grad-mode switches."""

from . import functional
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import backward, grad
from .function import OP_REGISTRY, BackwardNode, Function, register_op
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .tensor import Size, Tensor

__all__ = ["BackwardNode", "Function", "GradcheckError", "OP_REGISTRY", "Size", "Tensor", "backward",
           "detect_anomaly", "enable_grad", "functional", "grad", "gradcheck", "gradgradcheck",
           "inference_mode", "is_anomaly_enabled", "is_grad_enabled", "is_inference_mode_enabled", "no_grad",
           "register_op", "set_detect_anomaly", "set_grad_enabled"]
