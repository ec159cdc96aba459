"""``ember.save`` / ``ember.load``: nested containers of tensors in one safetensors file, no pickle.

File layout: a standard safetensors file. Every distinct tensor/array is one safetensors entry
(``"0"``, ``"1"``, ...); the Python structure around them (dicts with any JSON-able keys, lists,
tuples, numbers, strings, None, dtypes) is JSON in the safetensors metadata under ``"ember"``, with a
CRC32 of the tensor bytes so that corruption is detected. A tensor referenced twice (tied weights) is
stored once and loads as one object again. Files written by other tools (a plain safetensors file)
load as ``{name: Tensor}``.

Nothing in a file can run code on load: only tensors and JSON are read.
"""

from __future__ import annotations

import collections
import io
import json
import os
import struct
import zlib

import numpy as np

from ..autograd.tensor import Tensor
from ..backend.device import get_device, to_numpy
from .atomic import atomic_write_bytes

FORMAT = "ember-1"
_META_KEY = "ember"


def _safetensors_numpy():
    try:
        import safetensors.numpy as stn
    except ImportError as exc:  # optional dependency
        raise ImportError("ember.save/ember.load need the 'safetensors' package: pip install 'ember[io]' "
                          "(or pip install safetensors)") from exc
    return stn


# -- encoding --------------------------------------------------------------------------------------

class _Encoder:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self._ids: dict[int, str] = {}
        self._keep = []  # keeps encoded objects alive so ids stay unique

    def array_key(self, obj, arr) -> str:
        key = self._ids.get(id(obj))
        if key is None:
            key = str(len(self.arrays))
            self._ids[id(obj)] = key
            self._keep.append(obj)
            # (not np.ascontiguousarray: it turns 0-d arrays into 1-d ones)
            self.arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        return key

    def encode(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, Tensor):
            node = {"__tensor__": self.array_key(obj, to_numpy(obj._data))}
            if obj.requires_grad:
                node["requires_grad"] = True
            if obj.device.type != "cpu":
                node["device"] = str(obj.device)
            return node
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biuf":
                raise TypeError(f"ember.save: can't save an array of dtype {obj.dtype} at {where}")
            return {"__ndarray__": self.array_key(obj, obj)}
        if isinstance(obj, np.generic):
            return {"__npscalar__": obj.dtype.name, "value": obj.item()}
        if isinstance(obj, np.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            kind = type(obj).__name__ if type(obj) in (collections.OrderedDict, collections.Counter) else None
            items = [[self.encode(k, f"{where} key {k!r}"), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]
            node = {"__dict__": items}
            if kind:
                node["type"] = kind
            return node
        if isinstance(obj, (set, frozenset)):
            return {"__set__": [self.encode(v, where) for v in obj], "frozen": isinstance(obj, frozenset)}
        raise TypeError(f"ember.save: can't save an object of type {type(obj).__name__} at {where}; only tensors, "
                        "NumPy arrays, numbers, strings, None, dtypes and lists/tuples/dicts/sets of them can be "
                        "saved (no pickle)")


def _checksum(arrays: dict) -> int:
    crc = 0
    for key in sorted(arrays, key=int):
        a = arrays[key]
        crc = zlib.crc32((a if a.flags.c_contiguous else a.copy(order="C")).reshape(-1).view(np.uint8), crc)
    return crc


def save(obj, f) -> None:
    """Save ``obj`` (tensors, arrays and plain values in nested dicts/lists/tuples) to ``f``.

    ``f`` is a path (written atomically: a temporary file, fsync, rename) or a binary file object.
    """
    stn = _safetensors_numpy()
    enc = _Encoder()
    structure = enc.encode(obj, "obj")
    meta = json.dumps({"format": FORMAT, "structure": structure, "crc32": _checksum(enc.arrays)},
                      separators=(",", ":"))
    data = stn.save(enc.arrays, metadata={_META_KEY: meta})
    if hasattr(f, "write"):
        f.write(data)
    else:
        atomic_write_bytes(f, data)


# -- decoding --------------------------------------------------------------------------------------

class _Decoder:
    def __init__(self, arrays, map_location, name):
        self.arrays, self.map_location, self.name = arrays, map_location, name
        self._made: dict[str, Tensor] = {}

    def device_for(self, saved: str):
        loc = self.map_location
        if loc is None:
            target = saved
        elif isinstance(loc, dict):
            target = loc.get(saved, saved)
        elif callable(loc):
            return loc
        else:
            target = str(loc)
        return target

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if "__tensor__" in node:
            key = node["__tensor__"]
            t = self._made.get(key)
            if t is None:
                t = Tensor._make(self._array(key))
                target = self.device_for(node.get("device", "cpu"))
                if callable(target):
                    t = target(t, node.get("device", "cpu"))
                elif target != "cpu":
                    t = t.to(get_device(target))
                if node.get("requires_grad"):
                    t.requires_grad_(True)
                self._made[key] = t
            return t
        if "__ndarray__" in node:
            return self._array(node["__ndarray__"])
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__dict__" in node:
            kind = {"OrderedDict": collections.OrderedDict, "Counter": collections.Counter}.get(node.get("type"), dict)
            out = kind()
            for k, v in node["__dict__"]:
                k = self.decode(k)
                out[k] = self.decode(v)
            return out
        if "__npscalar__" in node:
            return np.dtype(node["__npscalar__"]).type(node["value"])
        if "__dtype__" in node:
            return np.dtype(node["__dtype__"])
        if "__set__" in node:
            items = [self.decode(v) for v in node["__set__"]]
            return frozenset(items) if node.get("frozen") else set(items)
        raise _corrupt(self.name, f"unknown structure node {sorted(node)}")

    def _array(self, key):
        try:
            arr = self.arrays[key]
        except KeyError:
            raise _corrupt(self.name, f"tensor entry {key!r} is missing") from None
        if not arr.flags.writeable:
            arr = arr.copy()
        return arr


def _corrupt(name, why) -> RuntimeError:
    return RuntimeError(f"ember.load: {name} is not a valid checkpoint (truncated or corrupted?): {why}")


def _header_metadata(data: bytes, name) -> dict:
    if len(data) < 8:
        raise _corrupt(name, f"file has only {len(data)} bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise _corrupt(name, f"header claims {n} bytes but the file has {len(data) - 8} after the length")
    try:
        header = json.loads(bytes(data[8:8 + n]))
    except ValueError as exc:
        raise _corrupt(name, f"header is not valid JSON ({exc})") from None
    return header.get("__metadata__") or {}


def load(f, map_location=None):
    """Load what ``save`` wrote. ``map_location``: None (the devices saved from), a device or string
    (``"cpu"``, ``"cuda:0"``), a dict mapping saved device strings to new ones, or a callable
    ``fn(tensor, saved_device) -> tensor``. A plain safetensors file loads as ``{name: Tensor}``."""
    stn = _safetensors_numpy()
    if hasattr(f, "read"):
        name = getattr(f, "name", "<file object>")
        data = f.read()
    else:
        name = os.fspath(f)
        if not os.path.exists(name):
            raise FileNotFoundError(f"ember.load: no such file: {name}")
        with open(name, "rb") as fh:
            data = fh.read()
    meta = _header_metadata(data, name)
    try:
        arrays = stn.load(data)
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise _corrupt(name, str(exc)) from None
    if _META_KEY not in meta:  # a plain safetensors file from another tool
        dec = _Decoder(arrays, map_location, name)
        return {k: dec.decode({"__tensor__": k}) for k in arrays}
    try:
        info = json.loads(meta[_META_KEY])
    except ValueError as exc:
        raise _corrupt(name, f"metadata is not valid JSON ({exc})") from None
    if info.get("format") != FORMAT:
        raise RuntimeError(f"ember.load: {name} has format {info.get('format')!r}; this version reads {FORMAT!r}")
    if _checksum(arrays) != info.get("crc32"):
        raise _corrupt(name, "tensor data checksum mismatch")
    return _Decoder(arrays, map_location, name).decode(info["structure"])


def save_to_bytes(obj) -> bytes:
    """``save`` into memory (for sending checkpoints over a network)."""
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()
