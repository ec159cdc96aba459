"""``ember.utils.data``: the public path of ``ember.data`` (PyTorch's ``torch.utils.data``).

The submodules are importable under this path too (``ember.utils.data.datasets``,
``ember.utils.data.transforms``, ``ember.utils.data.sampler``...); they are the same module objects.
"""

import sys as _sys

from ... import data as _data
from ...data import *  # noqa: F401,F403
from ...data import __all__  # noqa: F401

for _name in ("collate", "dataset", "datasets", "loader", "sampler", "transforms", "worker"):
    _sys.modules[f"{__name__}.{_name}"] = getattr(_data, _name)
