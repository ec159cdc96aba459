"""ember.save / ember.load: round trips, no pickle, atomic writes, corruption detection."""

import collections
import io
import json
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
from ember import optim
from ember.optim import lr_scheduler


def test_round_trip_nested_structure(tmp_path):
    w = ember.randn(3, 4)
    obj = {
        "weights": {"w": w, "b": ember.zeros(4, dtype=ember.float64), "tied": w},
        "list": [1, 2.5, "s", None, True, (ember.tensor(7), ember.tensor([True, False]))],
        3: {"inf": float("inf"), (1, 2): "tuple key"},
        "np": np.arange(5, dtype=np.int16),
        "scalar": np.float32(0.25),
        "counter": collections.Counter([1, 1, 5]),
        "param": ember.ones(2, requires_grad=True),
        "empty": ember.zeros(0, 3),
    }
    path = tmp_path / "ckpt.safetensors"
    ember.save(obj, path)
    back = ember.load(path)
    assert back["weights"]["w"].tolist() == w.tolist() and back["weights"]["w"].dtype == ember.float32
    assert back["weights"]["tied"] is back["weights"]["w"]                  # shared tensors stay shared
    assert back["weights"]["b"].dtype == ember.float64
    assert back["list"][:5] == [1, 2.5, "s", None, True]
    assert isinstance(back["list"][5], tuple) and back["list"][5][0].shape == () and back["list"][5][0].item() == 7
    assert back["list"][5][1].tolist() == [True, False]
    assert back[3] == {"inf": float("inf"), (1, 2): "tuple key"}
    assert back["np"].dtype == np.int16 and back["np"].tolist() == [0, 1, 2, 3, 4]
    assert back["scalar"] == np.float32(0.25) and type(back["scalar"]) is np.float32
    assert back["counter"] == collections.Counter([1, 1, 5]) and isinstance(back["counter"], collections.Counter)
    assert back["param"].requires_grad and back["param"].is_leaf
    assert back["empty"].shape == (0, 3)
    back["weights"]["w"][0, 0] = 5.0                                          # loaded arrays are writable


def test_file_is_plain_safetensors_without_pickle(tmp_path):
    path = tmp_path / "m.safetensors"
    ember.save({"a": ember.ones(2, 2)}, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert header["0"]["dtype"] == "F32" and header["0"]["shape"] == [2, 2]
    assert "ember" in header["__metadata__"]
    from safetensors.numpy import load_file
    assert load_file(str(path))["0"].tolist() == [[1, 1], [1, 1]]
    with pytest.raises(TypeError, match=r"can't save an object of type object at obj\['x'\]"):
        ember.save({"x": object()}, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_foreign_safetensors_file_loads_as_dict(tmp_path):
    from safetensors.numpy import save_file
    save_file({"layer.weight": np.eye(2, dtype=np.float32)}, str(tmp_path / "hf.safetensors"))
    back = ember.load(tmp_path / "hf.safetensors")
    assert list(back) == ["layer.weight"] and back["layer.weight"].tolist() == [[1, 0], [0, 1]]


def test_file_objects_and_bytes():
    buf = io.BytesIO()
    ember.save([ember.arange(3)], buf)
    buf.seek(0)
    assert ember.load(buf)[0].tolist() == [0, 1, 2]


def test_optimizer_and_scheduler_state_round_trip(tmp_path):
    def setup():
        p = ember.tensor([1.0, -2.0], requires_grad=True)
        opt = optim.Adam([p], lr=0.1, amsgrad=True)
        sched = lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
        return p, opt, sched

    def train(p, opt, sched, n):
        for _ in range(n):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
            sched.step()

    p, opt, sched = setup()
    train(p, opt, sched, 3)
    ember.save({"p": p.detach(), "opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "c")
    train(p, opt, sched, 3)
    ckpt = ember.load(tmp_path / "c")
    p2, opt2, sched2 = setup()
    with ember.no_grad():
        p2.copy_(ckpt["p"])
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    train(p2, opt2, sched2, 3)
    assert p2.tolist() == p.tolist() and sched2.get_last_lr() == sched.get_last_lr()


def test_map_location(tmp_path):
    ember.save({"a": ember.ones(2)}, tmp_path / "m")
    assert ember.load(tmp_path / "m", map_location="cpu")["a"].device.type == "cpu"
    moved = ember.load(tmp_path / "m", map_location=lambda t, saved: t * 2)
    assert moved["a"].tolist() == [2.0, 2.0]


def test_truncated_and_corrupted_files_name_the_file(tmp_path):
    path = tmp_path / "model.safetensors"
    ember.save({"w": ember.randn(100)}, path)
    raw = path.read_bytes()
    path.write_bytes(raw[:-10])
    with pytest.raises(RuntimeError, match=r"ember.load: .*model.safetensors is not a valid checkpoint"):
        ember.load(path)
    flipped = bytearray(raw)
    flipped[-5] ^= 0xFF                                   # one byte of tensor data
    path.write_bytes(bytes(flipped))
    with pytest.raises(RuntimeError, match=r"model.safetensors .*checksum mismatch"):
        ember.load(path)
    path.write_bytes(raw[:4])
    with pytest.raises(RuntimeError, match=r"model.safetensors is not a valid checkpoint.*only 4 bytes"):
        ember.load(path)
    with pytest.raises(FileNotFoundError, match="no such file: .*missing.safetensors"):
        ember.load(tmp_path / "missing.safetensors")


def test_failed_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    ember.save({"v": ember.tensor([1.0])}, path)
    import ember.io.atomic as atomic

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"v": ember.tensor([2.0])}, path)
    monkeypatch.undo()
    assert ember.load(path)["v"].tolist() == [1.0]
    assert os.listdir(tmp_path) == ["ckpt"]                 # no temporary file left behind


def test_crash_mid_write_keeps_previous_file(tmp_path):
    """A process killed while writing (after half the bytes) leaves the old checkpoint intact."""
    path = tmp_path / "ckpt"
    ember.save({"v": ember.tensor([1.0])}, path)
    script = textwrap.dedent(f"""
        import os, ember, ember.io.atomic as atomic
        real_fdopen = os.fdopen
        class Dying:
            def __init__(self, f): self.f = f
            def __enter__(self): return self
            def __exit__(self, *a): return False
            def write(self, data):
                self.f.write(bytes(data)[: len(data) // 2]); self.f.flush()
                os._exit(3)                                   # crash: no cleanup, no rename
        atomic.os.fdopen = lambda fd, mode: Dying(real_fdopen(fd, mode))
        ember.save({{"v": ember.randn(1000)}}, {str(path)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    assert ember.load(path)["v"].tolist() == [1.0]
    leftovers = [n for n in os.listdir(tmp_path) if n != "ckpt"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".ckpt.")   # the partial temp file, never the target


def test_missing_safetensors_gives_install_hint(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("safetensors"):
            raise ImportError("No module named 'safetensors'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install 'ember\[io\]'"):
        ember.save({}, io.BytesIO())
