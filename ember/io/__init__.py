"""Files users keep: ``save``/``load`` (safetensors + JSON structure, no pickle) and atomic writes."""

from .atomic import atomic_write_bytes
from .serialization import load, save, save_to_bytes

__all__ = ["atomic_write_bytes", "load", "save", "save_to_bytes"]
