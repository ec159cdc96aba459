"""``detect_anomaly``: record where each op was called in forward, and fail loudly when backward
produces NaN or Inf, naming the op and showing the forward line that created it."""

from __future__ import annotations

import functools

from .. import _config


def is_anomaly_enabled() -> bool:
    return _config.anomaly_enabled.get()


class detect_anomaly:
    """Context manager / decorator enabling anomaly detection (slower: keeps stack traces)."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._token = _config.anomaly_enabled.set(self.check_nan)
        return self

    def __exit__(self, *exc):
        _config.anomaly_enabled.reset(self._token)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off (immediately, or for a ``with`` block)."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = _config.anomaly_enabled.get()
        _config.anomaly_enabled.set(bool(mode) and check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _config.anomaly_enabled.set(self._prev)
        return False
