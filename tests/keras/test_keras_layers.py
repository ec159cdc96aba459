"""Keras layers: lazy shapes, Keras defaults, values against NumPy references."""

import numpy as np
import pytest

import ember
import ember.keras as keras
from ember.keras import layers


def _np(t):
    return t.detach().numpy()


def _x(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).normal(size=shape).astype(np.float32))


def _weights(layer):
    return dict((k, v.detach().numpy()) for k, v in layer.state_dict(keep_vars=True).items())


def test_dense_lazy_build_activation_and_glorot_init():
    ember.manual_seed(0)
    d = layers.Dense(200, activation="relu")
    assert not d.built and list(d.parameters()) == []
    x = _x(5, 300)
    y = d(x)
    assert d.built and y.shape == (5, 200) and d.output_shape == (None, 200)
    w, b = _np(d.linear.weight), _np(d.linear.bias)
    np.testing.assert_allclose(_np(y), np.maximum(_np(x) @ w.T + b, 0), rtol=1e-5, atol=1e-5)
    limit = np.sqrt(6 / (300 + 200))               # glorot_uniform, bias zeros
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit and not b.any()
    assert d.count_params() == 300 * 200 + 200
    # rank-3 inputs act on the last axis
    assert layers.Dense(3)(_x(2, 4, 5)).shape == (2, 4, 3)


def test_dense_initializer_and_regularizer_by_name():
    ember.manual_seed(0)
    d = layers.Dense(4, kernel_initializer="ones", use_bias=False, kernel_regularizer="l2")
    d(_x(2, 3))
    assert list(d.state_dict()) == ["linear.weight"]
    (reg,) = d.losses
    assert float(_np(reg)) == pytest.approx(0.01 * 12)
    d2 = layers.Dense(2, kernel_regularizer=keras.regularizers.L1(0.5), activation=ember.tanh)
    d2(_x(1, 3))
    assert float(_np(d2.losses[0])) == pytest.approx(0.5 * np.abs(_np(d2.linear.weight)).sum(), rel=1e-6)
    with pytest.raises(ValueError, match="Unknown activation function: 'relux'"):
        layers.Dense(2, activation="relux")


def _conv2d_ref(x, w, b, stride, pad):
    """x (N, H, W, C), w (O, C, kh, kw) in torch layout; pad ((top, bottom), (left, right))."""
    x = np.pad(x, ((0, 0), pad[0], pad[1], (0, 0)))
    n, h, wd, c = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]      # (n, kh, kw, c)
            out[:, i, j, :] = np.einsum("nhwc,ochw->no", patch, w)
    return out + b


def test_conv2d_channels_last_same_and_valid():
    ember.manual_seed(0)
    x = _x(2, 7, 6, 3)
    same = layers.Conv2D(4, 3, strides=2, padding="same")
    y = same(x)
    assert y.shape == (2, 4, 3, 4)                     # ceil(7/2), ceil(6/2)
    # TensorFlow puts the odd padding pixel at the bottom/right: H 7 -> total 2 (1,1); W 6 -> total 1 (0,1)
    ref = _conv2d_ref(_np(x), _np(same.conv.weight), _np(same.conv.bias), 2, ((1, 1), (0, 1)))
    np.testing.assert_allclose(_np(y), ref, rtol=1e-4, atol=1e-5)
    valid = layers.Conv2D(2, (3, 2), activation="relu")
    yv = valid(x)
    ref = np.maximum(_conv2d_ref(_np(x), _np(valid.conv.weight), _np(valid.conv.bias), 1, ((0, 0), (0, 0))), 0)
    assert yv.shape == (2, 5, 5, 2)
    np.testing.assert_allclose(_np(yv), ref, rtol=1e-4, atol=1e-5)
    first = layers.Conv2D(2, 3, padding="same", data_format="channels_first")
    assert first(_x(1, 3, 5, 5)).shape == (1, 2, 5, 5)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        layers.Conv2D(2, 3, padding="full")


def test_conv1d_and_conv2d_transpose_shapes():
    assert layers.Conv1D(5, 3)(_x(2, 10, 4)).shape == (2, 8, 5)
    assert layers.Conv1D(5, 4, strides=3, padding="same")(_x(2, 10, 4)).shape == (2, 4, 5)
    assert layers.Conv2DTranspose(3, 3, strides=2, padding="same")(_x(2, 5, 4, 6)).shape == (2, 10, 8, 3)
    assert layers.Conv2DTranspose(3, 3, strides=2)(_x(2, 5, 4, 6)).shape == (2, 11, 9, 3)
    assert layers.Conv2DTranspose(3, 4, strides=2, padding="same")(_x(1, 3, 3, 2)).shape == (1, 6, 6, 3)


def test_pooling_same_and_valid_against_numpy():
    x = _x(1, 5, 5, 2)
    a = _np(x)
    y = _np(layers.MaxPooling2D()(x))
    assert y.shape == (1, 2, 2, 2)
    np.testing.assert_allclose(y[0, 1, 0], a[0, 2:4, 0:2].max((0, 1)))
    ys = _np(layers.MaxPooling2D(padding="same")(x))
    assert ys.shape == (1, 3, 3, 2)
    np.testing.assert_allclose(ys[0, 2, 2], a[0, 4, 4])                     # window holds one real pixel
    avg = _np(layers.AveragePooling2D(padding="same")(x))
    np.testing.assert_allclose(avg[0, 2, 1], a[0, 4, 2:4].mean(0), rtol=1e-6)   # padding not averaged
    np.testing.assert_allclose(avg[0, 0, 0], a[0, :2, :2].mean((0, 1)), rtol=1e-6)
    assert layers.MaxPooling1D(2)(_x(2, 9, 3)).shape == (2, 4, 3)
    np.testing.assert_allclose(_np(layers.GlobalAveragePooling2D()(x)), a.mean((1, 2)), rtol=1e-6)
    np.testing.assert_allclose(_np(layers.GlobalMaxPooling2D()(x)), a.max((1, 2)))
    assert layers.GlobalAveragePooling2D(keepdims=True)(x).shape == (1, 1, 1, 2)
    seq = _x(2, 4, 3)
    mask = ember.tensor(np.array([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool))
    g = _np(layers.GlobalAveragePooling1D()(seq, mask=mask))
    np.testing.assert_allclose(g[0], _np(seq)[0, :2].mean(0), rtol=1e-6)


def test_flatten_reshape_merges_activation():
    x = _x(2, 3, 4)
    assert layers.Flatten()(x).shape == (2, 12)
    np.testing.assert_array_equal(_np(layers.Reshape((4, 3))(x)), _np(x).reshape(2, 4, 3))
    assert layers.Reshape((-1, 2))(x).shape == (2, 6, 2)
    with pytest.raises(ValueError, match="cannot reshape input of shape"):
        layers.Reshape((5,))(x)
    a, b = _x(2, 3, seed=1), _x(2, 3, seed=2)
    np.testing.assert_allclose(_np(layers.Add()([a, b])), _np(a) + _np(b))
    np.testing.assert_allclose(_np(layers.Concatenate()([a, b])), np.concatenate([_np(a), _np(b)], -1))
    np.testing.assert_allclose(_np(layers.Average()([a, b])), (_np(a) + _np(b)) / 2, rtol=1e-6)
    np.testing.assert_allclose(_np(layers.Activation("sigmoid")(a)), 1 / (1 + np.exp(-_np(a))), rtol=1e-5)


def test_dropout_training_only():
    ember.manual_seed(0)
    d = layers.Dropout(0.5)
    x = ember.ones((100, 100))
    y = _np(d(x, training=True))
    assert 0.45 < (y == 0).mean() < 0.55 and set(np.unique(y)) == {0.0, 2.0}
    np.testing.assert_array_equal(_np(d(x, training=False)), np.ones((100, 100)))


def test_batch_normalization_keras_momentum_and_modes():
    x = _x(64, 3) * 3.0 + 1.0
    bn = layers.BatchNormalization()
    y = _np(bn(x, training=True))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, atol=2e-3)
    mm = _np(bn.bn.running_mean)
    np.testing.assert_allclose(mm, 0.01 * _np(x).mean(0), rtol=1e-5)      # Keras momentum 0.99
    z = _np(bn(x, training=False))                                         # moving statistics
    mv = _np(bn.bn.running_var)
    np.testing.assert_allclose(z, (_np(x) - mm) / np.sqrt(mv + 1e-3), rtol=1e-4, atol=1e-5)
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    assert bn.count_params() == 12
    img = layers.BatchNormalization()(_x(4, 5, 5, 3), training=True)
    np.testing.assert_allclose(_np(img).mean((0, 1, 2)), 0, atol=1e-5)


def test_layer_normalization():
    x = _x(3, 5)
    y = _np(layers.LayerNormalization()(x))
    a = _np(x)
    ref = (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_embedding_mask_and_lstm_masking_equals_truncation():
    ember.manual_seed(0)
    emb = layers.Embedding(10, 4, mask_zero=True)
    ids = ember.tensor(np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]]))
    e = emb(ids)
    assert e.shape == (2, 5, 4)
    w = _np(emb.embedding.weight)
    assert np.abs(w).max() <= 0.05                                        # Keras 'uniform' initializer
    np.testing.assert_array_equal(_np(emb.compute_mask(ids)), _np(ids) != 0)
    lstm = layers.LSTM(6)
    masked = _np(lstm(e, mask=emb.compute_mask(ids)))
    truncated = _np(lstm(e[0:1, :3]))
    np.testing.assert_allclose(masked[0], truncated[0], rtol=1e-5, atol=1e-6)
    b = _np(lstm.cell.bias_ih_l0)
    np.testing.assert_array_equal(b[6:12], 1.0)                            # unit_forget_bias
    np.testing.assert_array_equal(np.delete(b, np.s_[6:12]), 0.0)


def test_recurrent_return_options_and_go_backwards():
    ember.manual_seed(0)
    x = _x(2, 5, 3)
    out, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(x)
    assert out.shape == (2, 5, 4) and h.shape == (2, 4) and c.shape == (2, 4)
    np.testing.assert_allclose(_np(out[:, -1]), _np(h), rtol=1e-6)
    gru = layers.GRU(3, go_backwards=True)
    back = _np(gru(x))
    fwd_on_flipped = _np(gru.cell(ember.flip(x, [1]))[1][-1])
    np.testing.assert_allclose(back, fwd_on_flipped, rtol=1e-6)
    rnn_out, rnn_h = layers.SimpleRNN(2, return_state=True)(x)
    assert rnn_out.shape == (2, 2) and rnn_h.shape == (2, 2)
    bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    y = bi(x)
    assert y.shape == (2, 5, 8)
    f = _np(bi.forward_layer(x))
    b = _np(bi.backward_layer(x))[:, ::-1]
    np.testing.assert_allclose(_np(y), np.concatenate([f, b], -1), rtol=1e-6)
    assert layers.Bidirectional(layers.GRU(3), merge_mode="sum")(x).shape == (2, 3)
    with pytest.raises(NotImplementedError, match="only activation='tanh'"):
        layers.LSTM(3, activation="relu")


def test_attention_layers():
    ember.manual_seed(0)
    q, v = _x(2, 3, 4, seed=1), _x(2, 5, 4, seed=2)
    att = _np(layers.Attention()([q, v]))
    s = _np(q) @ _np(v).transpose(0, 2, 1)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(att, p @ _np(v), rtol=1e-5, atol=1e-6)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    out, scores = mha(q, v, return_attention_scores=True)
    assert out.shape == (2, 3, 4) and scores.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(_np(scores).sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(_np(mha(q, v)), _np(out), rtol=1e-5, atol=1e-6)
    # causal self-attention: position 0 ignores later positions
    x = _x(1, 4, 4, seed=3)
    x2 = ember.tensor(np.concatenate([_np(x)[:, :1], _np(x)[:, 1:] * 5], 1))
    sa = layers.MultiHeadAttention(num_heads=1, key_dim=4)
    a0 = _np(sa(x, x, use_causal_mask=True))[:, 0]
    b0 = _np(sa(x2, x2, use_causal_mask=True))[:, 0]
    np.testing.assert_allclose(a0, b0, rtol=1e-5, atol=1e-6)


def test_initializers_keras_layout_fans():
    ember.manual_seed(0)
    t = keras.initializers.HeNormal()((400, 300))
    assert np.std(_np(t)) == pytest.approx(np.sqrt(2 / 400), rel=0.05)        # fan_in = shape[0] (Keras layout)
    u = keras.initializers.get("glorot_uniform")((3, 3, 8, 16))
    lim = np.sqrt(6 / (9 * 8 + 9 * 16))
    assert np.abs(_np(u)).max() <= lim
    assert keras.initializers.get({"class_name": "Constant", "config": {"value": 2.0}})((2,)).numpy().tolist() == \
        [2.0, 2.0]


def test_trainable_false_freezes_parameters():
    d = layers.Dense(3, trainable=False)
    d(_x(1, 2))
    assert d.trainable_weights == [] and len(d.non_trainable_weights) == 2
    d.trainable = True
    assert len(d.trainable_weights) == 2


def test_training_flag_flows_through_subclassed_calls_like_keras():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.5)

        def call(self, x):                         # does not pass `training` on
            return self.drop(x)

    ember.manual_seed(0)
    net = Net()
    x = ember.ones((50, 50))
    np.testing.assert_array_equal(_np(net(x)), 1.0)              # Keras default: inference
    assert (_np(net(x, training=True)) == 0).mean() > 0.3        # the outer flag reaches the Dropout
    net.train()                                                  # fit's mode: training by default
    assert (_np(net(x)) == 0).mean() > 0.3
    np.testing.assert_array_equal(_np(net(x, training=False)), 1.0)


def test_custom_layer_add_weight_and_add_loss():
    class Lin(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1], self.units), initializer="ones", regularizer="l2",
                                     name="kernel")
            self.b = self.add_weight(shape=(self.units,), name="bias")
            self.frozen = self.add_weight(shape=(1,), initializer="ones", trainable=False, name="frozen")

        def call(self, x):
            y = ember.matmul(x, self.w) + self.b
            self.add_loss((y * y).mean())
            return y * self.frozen

    layer = Lin(2)
    x = ember.ones((4, 3))
    y = layer(x)
    np.testing.assert_allclose(_np(y), 3.0)
    assert list(layer.state_dict()) == ["kernel", "bias", "frozen"] and layer.count_params() == 6 + 2 + 1
    assert [tuple(v.shape) for v in layer.trainable_weights] == [(3, 2), (2,)]
    l2, act = [float(_np(t)) for t in layer.losses]
    assert l2 == pytest.approx(0.01 * 6) and act == pytest.approx(9.0)
    layer(x)
    assert len(layer.losses) == 2                  # the previous call's add_loss terms are dropped
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    # the training loss includes the regularizer and the add_loss term
    assert model.test_on_batch(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")) == \
        pytest.approx(9.0 + 0.06 + 9.0, rel=1e-5)


def test_masked_bidirectional_equals_unpadded_sequence():
    ember.manual_seed(0)
    x = _x(1, 5, 3)
    mask = ember.tensor(np.array([[True, True, True, False, False]]))
    bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    padded = _np(bi(x, mask=mask))
    short = _np(bi(x[:, :3]))
    np.testing.assert_allclose(padded[:, :3], short, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(padded[:, 3:], 0.0)
    last = layers.Bidirectional(layers.GRU(3))
    np.testing.assert_allclose(_np(last(x, mask=mask)), _np(last(x[:, :3])), rtol=1e-5, atol=1e-6)


def test_layer_names_and_clear_session():
    keras.backend.clear_session()
    assert [layers.Dense(1).name, layers.Dense(1).name, layers.Conv2D(1, 1).name] == ["dense", "dense_1", "conv2d"]
    keras.backend.clear_session()
    assert layers.Dense(1).name == "dense" and layers.Dense(1, name="head").name == "head"
    assert layers.GlobalAveragePooling2D().name == "global_average_pooling2d"


def test_kernel_views_in_keras_layout():
    d = layers.Dense(3)
    x = _x(2, 5)
    y = d(x)
    assert tuple(d.kernel.shape) == (5, 3)
    np.testing.assert_allclose(_np(y), _np(x) @ _np(d.kernel) + _np(d.bias), rtol=1e-5, atol=1e-6)
    c = layers.Conv2D(4, (3, 2))
    c(_x(1, 6, 6, 2))
    assert tuple(c.kernel.shape) == (3, 2, 2, 4)
    assert tuple(layers.Conv1D(4, 3)(_x(1, 6, 2)).shape) == (1, 4, 4)
