"""BERT: HuggingFace parameter names, a NumPy re-implementation as the reference forward, the
attention mask (padding invariance), gradients (gradcheck of the encoder in float64), config
parsing and errors."""

import math

import numpy as np
import pytest
from scipy.special import erf

import ember
import ember.models as M
from ember.autograd import gradcheck

TINY = dict(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=24,
            max_position_embeddings=12, type_vocab_size=2)


def tiny(**kw):
    ember.manual_seed(0)
    return M.BertModel(M.BertConfig(**{**TINY, **kw}))


def hf_names(layers, pooler=True):
    names = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
             "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for sub in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                    "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"]:
            names += [p + sub + ".weight", p + sub + ".bias"]
    if pooler:
        names += ["pooler.dense.weight", "pooler.dense.bias"]
    return names


def numpy_bert(sd, cfg, ids, mask, types):
    """Independent float64 NumPy forward of HF's BertModel (post-LN, exact GELU)."""
    w = {k: v.numpy().astype(np.float64) for k, v in sd.items()}

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + cfg.layer_norm_eps) * w[p + ".weight"] + w[p + ".bias"]

    def lin(x, p):
        return x @ w[p + ".weight"].T + w[p + ".bias"]

    N, L = ids.shape
    h = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.token_type_embeddings.weight"][types]
         + w["embeddings.position_embeddings.weight"][np.arange(L)])
    h = ln(h, "embeddings.LayerNorm")
    nh, d = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
    add = np.where(mask[:, None, None, :] > 0, 0.0, -1e30)
    for i in range(cfg.num_hidden_layers):
        p = f"encoder.layer.{i}."
        q, k, v = (lin(h, p + "attention.self." + n).reshape(N, L, nh, d).transpose(0, 2, 1, 3)
                   for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + add
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(N, L, nh * d)
        a = ln(lin(ctx, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
        f = lin(a, p + "intermediate.dense")
        f = 0.5 * f * (1 + erf(f / math.sqrt(2)))
        h = ln(lin(f, p + "output.dense") + a, p + "output.LayerNorm")
    return h, np.tanh(lin(h[:, 0], "pooler.dense"))


def test_parameter_names_are_huggingface():
    m = tiny()
    assert list(m.state_dict()) == hf_names(2)
    assert list(M.BertModel(M.BertConfig(**TINY), add_pooling_layer=False).state_dict()) == hf_names(2, False)
    cls = M.BertForSequenceClassification(M.BertConfig(**TINY, num_labels=3))
    keys = list(cls.state_dict())
    assert keys[:len(hf_names(2))] == ["bert." + k for k in hf_names(2)]
    assert keys[-2:] == ["classifier.weight", "classifier.bias"]


def test_forward_matches_numpy_reference():
    m = tiny().eval()
    with ember.no_grad():   # non-trivial LayerNorm parameters
        for name, p in m.named_parameters():
            if "LayerNorm" in name:
                p.copy_(ember.randn(*p.shape) * 0.2 + (1.0 if name.endswith("weight") else 0.0))
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 40, (3, 7))
    mask = np.ones((3, 7), dtype=np.int64)
    mask[1, 4:] = 0
    mask[2, 1:] = 0
    ids[mask == 0] = 0
    types = rng.integers(0, 2, (3, 7))
    with ember.no_grad():
        out = m(ember.tensor(ids), ember.tensor(mask), ember.tensor(types))
    ref_h, ref_p = numpy_bert(m.state_dict(), m.config, ids, mask, types)
    assert isinstance(out, M.BertModelOutput) and tuple(out.last_hidden_state.shape) == (3, 7, 16)
    np.testing.assert_allclose(out.last_hidden_state.numpy(), ref_h, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.pooler_output.numpy(), ref_p, rtol=1e-4, atol=1e-5)


def test_padding_does_not_change_real_tokens():
    m = tiny().eval()
    seqs = [[5, 6, 7, 8, 9, 10], [11, 12], [13, 14, 15, 16]]
    L = 6
    ids = np.array([s + [0] * (L - len(s)) for s in seqs])
    mask = (np.arange(L)[None] < np.array([len(s) for s in seqs])[:, None]).astype(np.int64)
    with ember.no_grad():
        batched = m(ember.tensor(ids), ember.tensor(mask)).last_hidden_state.numpy()
        pooled = M.mean_pooling(ember.tensor(batched), ember.tensor(mask)).numpy()
        for i, s in enumerate(seqs):
            alone = m(ember.tensor([s])).last_hidden_state.numpy()[0]
            np.testing.assert_allclose(batched[i, :len(s)], alone, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(pooled[i], alone.mean(0), rtol=1e-5, atol=1e-6)


def test_encoder_gradcheck_float64():
    cfg = M.BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=12, max_position_embeddings=8, hidden_dropout_prob=0.0,
                       attention_probs_dropout_prob=0.0)
    ember.manual_seed(0)
    m = M.BertModel(cfg).double()
    mask = M.bert.extended_attention_mask(ember.tensor([[1, 1, 1, 0], [1, 1, 0, 0]]), np.dtype("float64"))
    x = ember.randn(2, 4, 8, dtype="float64", requires_grad=True)
    assert gradcheck(lambda t: m.encoder(t, mask), (x,), eps=1e-6, atol=1e-5)
    # and every parameter gets a gradient from a full forward/backward
    m.train()
    out = m(ember.tensor([[1, 2, 3, 4]]), ember.tensor([[1, 1, 1, 0]]))
    (out.last_hidden_state.sum() + out.pooler_output.sum()).backward()
    missing = [n for n, p in m.named_parameters() if p.grad is None]
    assert missing == [], missing


def test_dropout_only_in_training():
    m = tiny(hidden_dropout_prob=0.5)
    ids = ember.tensor([[1, 2, 3, 4]])
    with ember.no_grad():
        a, b = m(ids).last_hidden_state.numpy(), m(ids).last_hidden_state.numpy()
        m.eval()
        c, d = m(ids).last_hidden_state.numpy(), m(ids).last_hidden_state.numpy()
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(c, d)


def test_init_follows_huggingface():
    m = M.BertModel(M.BertConfig(**{**TINY, "hidden_size": 64, "intermediate_size": 256}))
    q = m.encoder.layer[0].attention.self.query
    assert abs(float(q.weight.detach().std()) - 0.02) < 0.002 and not q.bias.detach().numpy().any()
    assert not m.embeddings.word_embeddings.weight.detach().numpy()[0].any()      # padding row
    assert (m.embeddings.LayerNorm.weight.detach().numpy() == 1).all()


def test_config_from_dict_and_errors(tmp_path):
    c = M.BertConfig.from_dict({**TINY, "architectures": ["BertModel"], "transformers_version": "4.8.2",
                                "id2label": {"0": "a", "1": "b", "2": "c"}})
    assert c.hidden_size == 16 and c.num_labels == 3
    (tmp_path / "config.json").write_text('{"hidden_size": 32, "num_attention_heads": 4, "hidden_act": "gelu_new"}')
    c = M.BertConfig.from_json_file(tmp_path / "config.json")
    assert (c.hidden_size, c.hidden_act, c.vocab_size) == (32, "gelu_new", 30522)
    with pytest.raises(ValueError, match=r"hidden_size \(10\) is not a multiple of num_attention_heads \(4\)"):
        M.BertConfig(hidden_size=10, num_attention_heads=4)
    with pytest.raises(ValueError, match="unsupported hidden_act 'gelu_fast'"):
        M.BertConfig(hidden_act="gelu_fast")
    with pytest.raises(NotImplementedError, match="position_embedding_type='relative_key'"):
        M.BertConfig(position_embedding_type="relative_key")


def test_forward_errors():
    m = tiny()
    with pytest.raises(TypeError, match="input_ids must be an integer tensor, got float32"):
        m(ember.ones(1, 3))
    with pytest.raises(ValueError, match=r"attention_mask of shape \(1, 2\) does not match input_ids of shape \(1, 3\)"):
        m(ember.tensor([[1, 2, 3]]), ember.tensor([[1, 1]]))
    with pytest.raises(ValueError, match="sequence length 13 exceeds max_position_embeddings 12"):
        m(ember.ones(1, 13, dtype="int64"))
    with pytest.raises(ValueError, match=r"input_ids must be \(batch, seq_len\), got shape \(3,\)"):
        m(ember.tensor([1, 2, 3]))


def test_sequence_classification_head():
    ember.manual_seed(0)
    cls = M.BertForSequenceClassification(M.BertConfig(**TINY, num_labels=3)).eval()
    ids = ember.tensor([[1, 2, 3], [4, 5, 0]])
    mask = ember.tensor([[1, 1, 1], [1, 1, 0]])
    with ember.no_grad():
        logits = cls(ids, mask).numpy()
        pooled = cls.bert(ids, mask).pooler_output.numpy()
    w, b = cls.classifier.weight.detach().numpy(), cls.classifier.bias.detach().numpy()
    np.testing.assert_allclose(logits, pooled @ w.T + b, rtol=1e-5, atol=1e-6)
