"""A few ``keras.backend`` helpers: ``clear_session`` (restart layer-name numbering), ``floatx``,
``epsilon``."""

from __future__ import annotations

__all__ = ["clear_session", "epsilon", "floatx"]


def clear_session(free_memory: bool = True) -> None:
    """Forget the auto-generated layer names so new layers are named ``dense``, ``dense_1``... again."""
    from .layers.base import _NAME_COUNTS
    _NAME_COUNTS.clear()


def floatx() -> str:
    from .. import get_default_dtype
    return str(get_default_dtype())


def epsilon() -> float:
    """The fuzz factor Keras losses clip probabilities with."""
    from .losses import EPSILON
    return EPSILON
