"""Process-wide defaults kept in ContextVars, so threads and asyncio tasks each see their own.

- default dtype: what floating-point factories (``ember.zeros``, ``ember.randn``...) produce;
- grad mode: whether ``Function.apply`` records a graph;
- anomaly mode: whether forward stacks are kept and backward results are checked for NaN/Inf.
"""

from contextvars import ContextVar

import numpy as np

default_dtype: ContextVar[np.dtype] = ContextVar("ember_default_dtype", default=np.dtype("float32"))
grad_enabled: ContextVar[bool] = ContextVar("ember_grad_enabled", default=True)
inference_mode: ContextVar[bool] = ContextVar("ember_inference_mode", default=False)
anomaly_enabled: ContextVar[bool] = ContextVar("ember_anomaly_enabled", default=False)
