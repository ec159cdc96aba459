"""``ember.utils`` (``torch.utils``): ``ember.utils.data`` is the public path of ``ember.data``."""

from . import data

__all__ = ["data"]
