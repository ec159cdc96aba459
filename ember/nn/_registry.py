"""Support types of ``Module``: the registries that mirror entries into the instance ``__dict__``
and the handle returned by hook registration."""

from __future__ import annotations

import itertools


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict: dict):
        self._hooks = hooks_dict
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _Registry(dict):
    """A module's ``_parameters`` / ``_buffers`` / ``_modules``: a dict that mirrors every entry into the
    owning module's ``__dict__``. Reading ``module.weight`` is then an ordinary instance-attribute
    lookup (about 20x cheaper than a ``__getattr__`` fallback, which Python reaches only after raising
    an AttributeError internally), while code that edits ``_modules[name]`` directly, as PyTorch
    code does, still keeps the attribute in step."""

    __slots__ = ("_owner",)

    def __init__(self, owner: dict | None, items=()):
        super().__init__(items)
        self._owner = owner

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, value)
        if self._owner is not None:
            self._owner[key] = value

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        if self._owner is not None:
            self._owner.pop(key, None)

    def pop(self, key, *default):
        if self._owner is not None and key in self:
            self._owner.pop(key, None)
        return dict.pop(self, key, *default)

    def popitem(self):
        key, value = dict.popitem(self)
        if self._owner is not None:
            self._owner.pop(key, None)
        return key, value

    def clear(self):
        if self._owner is not None:
            for key in self:
                self._owner.pop(key, None)
        dict.clear(self)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def __reduce__(self):  # the owner is re-attached by Module.__setstate__
        return (_Registry, (None, list(self.items())))

    def __copy__(self):
        return _Registry(None, self.items())
