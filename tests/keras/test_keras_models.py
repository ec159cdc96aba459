"""Keras models end to end: Sequential CNN on digits, GradientTape training of a subclassed Model,
functional multi-input/multi-output models, saving/loading, checkpoints, summary, batch methods."""

import io
import os

import numpy as np
import pytest

import ember
import ember.keras as keras
from ember.keras import layers
from ember.utils.data import DataLoader, TensorDataset


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # small GEMMs on a loaded machine are far faster single-threaded (OpenBLAS spins otherwise)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


def _digits():
    from ember.data.datasets import Digits
    tr, te = Digits(train=True), Digits(train=False)
    return (tr.data.numpy()[..., None], tr.targets.numpy(), te.data.numpy()[..., None], te.targets.numpy())


@pytest.mark.slow
def test_sequential_cnn_reaches_95_percent_on_digits():
    xtr, ytr, xte, yte = _digits()
    ember.manual_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(xtr, ytr, batch_size=16, epochs=12, validation_data=(xte, yte), verbose=0)
    assert type(model.trainer._metrics[0]).__name__ == "SparseCategoricalAccuracy"
    loss, acc = model.evaluate(xte, yte, verbose=0)
    assert acc >= 0.95
    assert hist.history["val_accuracy"][-1] == pytest.approx(acc)
    assert hist.history["loss"][-1] < hist.history["loss"][0] / 4
    pred = model.predict(xte)
    assert pred.shape == (360, 10) and np.mean(pred.argmax(1) == yte) == pytest.approx(acc)


class _MLP(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(32, activation="tanh")
        self.drop = layers.Dropout(0.1)
        self.out = layers.Dense(1)

    def call(self, x, training=None):
        return self.out(self.drop(self.hidden(x), training=training))


def test_subclassed_model_with_gradient_tape_converges():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(256, 1)).astype(np.float32)
    y = np.sin(x).astype(np.float32)
    ember.manual_seed(0)
    model = _MLP()
    opt = keras.optimizers.Adam(learning_rate=0.02)
    loss_fn = keras.losses.MeanSquaredError()
    xt, yt = ember.tensor(x), ember.tensor(y)
    for _ in range(500):
        with ember.GradientTape() as tape:
            loss = loss_fn(yt, model(xt, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
    final = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert final < 5e-3
    assert opt.iterations == 500 and len(model.trainable_variables) == 4


def _two_in_two_out():
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(8, activation="relu")(a), b])
    reg = layers.Dense(1, name="reg")(h)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    return keras.Model([a, b], [reg, cls])


def _multi_data(n=256):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, 4)).astype(np.float32)
    b = rng.normal(size=(n, 3)).astype(np.float32)
    yr = (a.sum(1, keepdims=True) + b[:, :1]).astype(np.float32)
    yc = b.argmax(1)
    return a, b, yr, yc


def test_functional_multi_input_multi_output_training():
    a, b, yr, yc = _multi_data()
    ember.manual_seed(0)
    model = _two_in_two_out()
    assert model.output_names == ["reg", "cls"] and [t.shape for t in model.inputs] == [(None, 4), (None, 3)]
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"reg": 1.0, "cls": 0.5}, metrics={"cls": ["accuracy"]})
    h = model.fit([a, b], [yr, yc], epochs=25, batch_size=32, verbose=0)
    assert h.history["loss"][-1] < 0.25 * h.history["loss"][0]
    assert h.history["cls_accuracy"][-1] > 0.9
    res = model.evaluate([a, b], [yr, yc], verbose=0, return_dict=True)
    pr, pc = model.predict({"a": a, "b": b})
    mse = np.mean((pr - yr) ** 2)
    ce = -np.mean(np.log(np.clip(pc[np.arange(len(yc)), yc], 1e-7, 1)))
    assert res["loss"] == pytest.approx(mse + 0.5 * ce, rel=1e-4)
    assert res["cls_accuracy"] == pytest.approx(np.mean(pc.argmax(1) == yc))


def test_fit_accepts_loader_dataset_generator_and_validation_split():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5)).astype(np.float32)
    y = (x[:, :1] * 2.0).astype(np.float32)
    ember.manual_seed(0)
    model = keras.Sequential([layers.Dense(1, input_shape=(5,))])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    ds = TensorDataset(ember.tensor(x), ember.tensor(y))
    model.fit(DataLoader(ds, batch_size=20, shuffle=True), epochs=2, verbose=0)
    model.fit(ds, batch_size=50, epochs=1, verbose=0)

    def gen():
        while True:
            yield x[:40], y[:40]

    h = model.fit(gen(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    h = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0, shuffle=False)
    # the validation set is the last 25% of the samples, unshuffled
    assert h.history["val_loss"][-1] == pytest.approx(model.evaluate(x[150:], y[150:], verbose=0), rel=1e-5)
    assert h.history["val_loss"][-1] < 1e-3


def test_class_weight_and_sample_weight_scale_the_loss():
    x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    ember.manual_seed(0)
    model = keras.Sequential([layers.Dense(2, activation="softmax", input_shape=(1,))])
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    p = model.predict(x, verbose=0)
    per = -np.log(p[np.arange(4), y])
    w = np.array([1.0, 0.0, 2.0, 1.0], dtype=np.float32)
    assert model.test_on_batch(x, y, sample_weight=w) == pytest.approx((per * w).mean(), rel=1e-5)
    logs = model.train_on_batch(x, y, class_weight={0: 3.0, 1: 1.0}, return_dict=True)
    assert logs["loss"] == pytest.approx((per * np.array([3.0, 1, 1, 3.0])).mean(), rel=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(x), p, rtol=1e-6)


def test_accuracy_resolution_from_loss():
    x = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    for loss, y, act, expected in (("binary_crossentropy", (x[:, :1] > 0).astype(np.float32), "sigmoid", "Binary"),
                                   ("categorical_crossentropy", np.eye(3, dtype=np.float32)[x.argmax(1)],
                                    "softmax", "Categorical")):
        model = keras.Sequential([layers.Dense(y.shape[1], activation=act, input_shape=(3,))])
        model.compile("sgd", loss, metrics=["accuracy"])
        model.fit(x, y, epochs=1, verbose=0)
        assert type(model.trainer._metrics[0]).__name__ == expected + "Accuracy"
        assert model.metrics_names == ["loss", "accuracy"]


def _summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_summary_totals_equal_true_counts():
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(4, 3), layers.BatchNormalization(),
                              layers.Flatten(), layers.Dense(5)])
    text = _summary_text(model)
    conv = 3 * 3 * 1 * 4 + 4
    bn_train, bn_state = 2 * 4, 2 * 4
    dense = 6 * 6 * 4 * 5 + 5
    assert f"Total params: {conv + bn_train + bn_state + dense:,}" in text
    assert f"Trainable params: {conv + bn_train + dense:,}" in text
    assert f"Non-trainable params: {bn_state:,}" in text
    assert "conv2d" in text and "(Conv2D)" in text and "(None, 6, 6, 4)" in text and "(None, 5)" in text
    assert model.count_params() == conv + bn_train + bn_state + dense
    with pytest.raises(ValueError, match="has not yet been built"):
        keras.Sequential([layers.Dense(2)]).summary()


def test_weights_get_set_and_trainable_variables():
    ember.manual_seed(0)
    m1 = keras.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    m2 = keras.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    x = np.ones((4, 2), dtype=np.float32)
    assert not np.allclose(m1.predict(x, verbose=0), m2.predict(x, verbose=0))
    m2.set_weights(m1.get_weights())
    np.testing.assert_array_equal(m1.predict(x, verbose=0), m2.predict(x, verbose=0))
    assert [tuple(v.shape) for v in m1.trainable_variables] == [(3, 2), (3,), (1, 3), (1,)]
    with pytest.raises(ValueError, match="expects 4 weight arrays, got 1"):
        m2.set_weights(m1.get_weights()[:1])


@keras.saving.register_keras_serializable(package="tests")
class _Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = ember.nn.Parameter(ember.ones((input_shape[-1],)))

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_save_load_round_trips_predictions_exactly(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 7)).astype(np.float32)
    ember.manual_seed(0)
    seq = keras.Sequential([keras.Input((7,)), layers.Dense(8, activation="relu", kernel_regularizer="l2"),
                            layers.BatchNormalization(), layers.Dropout(0.2), _Scale(3.0), layers.Dense(2)])
    seq.compile("adam", "mse", metrics=["mae"])
    seq.fit(x, x[:, :2], epochs=2, verbose=0)
    path = tmp_path / "seq.keras"
    seq.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), seq.predict(x, verbose=0))
    assert [type(l).__name__ for l in loaded.layers] == ["Dense", "BatchNormalization", "Dropout", "_Scale", "Dense"]
    assert loaded.layers[3].factor == 3.0 and loaded.trainer is not None      # compiled again from the file
    loaded.fit(x, x[:, :2], epochs=1, verbose=0)

    ember.manual_seed(1)
    func = _two_in_two_out()
    a, b = x[:, :4], x[:, 4:]
    func.save(tmp_path / "func.keras")
    f2 = keras.models.load_model(tmp_path / "func.keras")
    for p1, p2 in zip(func.predict([a, b], verbose=0), f2.predict([a, b], verbose=0)):
        np.testing.assert_array_equal(p1, p2)

    seq.save_weights(tmp_path / "w.safetensors")
    clone = keras.models.clone_model(seq)
    assert not np.array_equal(clone.predict(x, verbose=0), seq.predict(x, verbose=0))
    clone.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), seq.predict(x, verbose=0))
    bad = keras.Sequential([keras.Input((7,)), layers.Dense(3)])
    with pytest.raises(ValueError, match="missing .*unexpected"):
        bad.load_weights(tmp_path / "w.safetensors")
    with open(tmp_path / "w.safetensors", "rb") as f:
        assert b"pickle" not in f.read(200)


def test_load_model_needs_registration_for_unknown_classes(tmp_path):
    class Unregistered(layers.Layer):
        def call(self, x):
            return x

    m = keras.Sequential([keras.Input((2,)), Unregistered()])
    m.save(tmp_path / "u.keras")
    with pytest.raises(ValueError, match="register_keras_serializable"):
        keras.models.load_model(tmp_path / "u.keras")
    loaded = keras.models.load_model(tmp_path / "u.keras", custom_objects={"Unregistered": Unregistered})
    assert type(loaded.layers[0]) is Unregistered


def test_model_checkpoint_reloads_to_identical_predictions(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [2.0], [-1.0]], dtype=np.float32)
    ember.manual_seed(0)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    full = keras.callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.keras"))
    best_w = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.weights"), save_best_only=True,
                                             save_weights_only=True, monitor="loss")
    model.fit(x, y, epochs=3, verbose=0, callbacks=[full, best_w])
    assert sorted(os.listdir(tmp_path)) == ["best.weights", "m-1.keras", "m-2.keras", "m-3.keras"]
    reloaded = keras.models.load_model(tmp_path / "m-3.keras")
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
    other = keras.models.clone_model(model)
    other.load_weights(tmp_path / "best.weights")      # the loss improved every epoch: the last weights
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_early_stopping_through_keras_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x.sum(1, keepdims=True)
    ember.manual_seed(0)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    sched = keras.callbacks.LearningRateScheduler(lambda e, lr: 0.05 if e < 2 else 1.9)
    es = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=10, validation_data=(x, y), verbose=0, callbacks=[sched, es])
    best = int(np.argmin(h.history["val_loss"]))
    assert best == 1 and len(h.history["val_loss"]) == 4
    assert model.evaluate(x, y, verbose=0) == pytest.approx(h.history["val_loss"][best], rel=1e-5)


def test_errors_before_compile_and_bad_graphs():
    model = keras.Sequential([layers.Dense(1)])
    with pytest.raises(RuntimeError, match="You must call `compile\\(\\)` before using the model"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)))
    with pytest.raises(TypeError, match="expected symbolic tensors"):
        keras.Model(np.ones(3), np.ones(3))
    stray = keras.Input((2,))
    other = keras.Input((2,))
    with pytest.raises(ValueError, match="the outputs depend on the input"):
        keras.Model(stray, layers.Add()([stray, other]))


def test_embedding_lstm_classifier_with_mask_trains():
    rng = np.random.default_rng(0)
    n, t = 300, 8
    lengths = rng.integers(2, t + 1, n)
    ids = rng.integers(1, 20, (n, t))
    ids[np.arange(t)[None, :] >= lengths[:, None]] = 0
    y = (np.where(ids == 0, 0, ids).sum(1) / lengths > 10).astype(np.int64)
    ember.manual_seed(0)
    model = keras.Sequential([keras.Input((t,), dtype="int64"), layers.Embedding(20, 8, mask_zero=True),
                              layers.LSTM(16), layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(ids, y, epochs=12, batch_size=32, verbose=0)
    assert h.history["accuracy"][-1] > 0.85
    # padding after the real tokens does not change the prediction
    more_pad = np.concatenate([ids[:5], np.zeros((5, 4), dtype=ids.dtype)], 1)
    longer = keras.Sequential([keras.Input((t + 4,), dtype="int64"), model.layers[0], model.layers[1],
                               model.layers[2]])
    np.testing.assert_allclose(longer.predict(more_pad, verbose=0), model.predict(ids[:5], verbose=0), rtol=1e-5)


def test_plot_history_and_plot_model(tmp_path):
    pytest.importorskip("matplotlib")
    hist = {"loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.9]}
    path = keras.utils.plot_history(hist, str(tmp_path / "h.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="not in the history"):
        keras.utils.plot_history(hist, str(tmp_path / "x.png"), metrics=["auc"])


def test_plot_model_error_names_what_to_install(tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "graphviz", None)          # as if not installed
    with pytest.raises(ImportError, match="pip install graphviz"):
        keras.utils.plot_model(_two_in_two_out(), str(tmp_path / "m.png"))


def test_plot_model_dot_source(tmp_path):
    pytest.importorskip("graphviz")
    model = _two_in_two_out()
    dot = keras.utils.plot_model(model, str(tmp_path / "m.dot"), show_shapes=True)
    text = open(dot).read()
    # a -> dense, dense -> concat, b -> concat, concat -> reg, concat -> cls
    assert text.count("->") == 5 and "Concatenate" in text and "(None, 3)" in text
    import shutil
    if shutil.which("dot") is None:
        with pytest.raises(ImportError, match="Graphviz programs"):
            keras.utils.plot_model(model, str(tmp_path / "m.png"))
    else:
        png = keras.utils.plot_model(model, str(tmp_path / "m.png"))
        assert open(png, "rb").read(4) == b"\x89PNG"


def test_verbose_fit_prints_keras_style_progress(capsys):
    x = np.zeros((10, 2), dtype=np.float32)
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, x[:, :1], epochs=2, batch_size=5, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "2/2 [==============================]" in out and "loss: 0.0000" in out


def test_save_load_many_layer_types(tmp_path):
    ember.manual_seed(0)
    img = keras.Input((6, 6, 2))
    c = layers.Conv2D(4, 3, padding="same", activation="relu", kernel_regularizer="l1")(img)
    c = layers.Conv2DTranspose(3, 3, strides=2, padding="same")(layers.AveragePooling2D()(c))
    c = layers.GlobalMaxPooling2D()(layers.MaxPooling2D(padding="same")(c))
    seq = keras.Input((5,), dtype="int64")
    e = layers.Embedding(12, 6, mask_zero=True)(seq)
    r = layers.Bidirectional(layers.GRU(4, return_sequences=True))(e)
    r = layers.LayerNormalization()(layers.MultiHeadAttention(2, 3)(r, r))
    r = layers.SimpleRNN(3)(layers.Conv1D(4, 2, padding="same")(r))
    lstm = layers.LSTM(2)(layers.Reshape((5, 6))(layers.Flatten()(e)))
    out = layers.Dense(1)(layers.Concatenate()([c, r, lstm, layers.GlobalAveragePooling1D()(e)]))
    model = keras.Model([img, seq], out)
    rng = np.random.default_rng(0)
    x_img = rng.normal(size=(3, 6, 6, 2)).astype(np.float32)
    x_seq = rng.integers(1, 12, (3, 5))
    x_seq[0, 3:] = 0
    before = model.predict([x_img, x_seq], verbose=0)
    model.save(tmp_path / "many.keras")
    loaded = keras.models.load_model(tmp_path / "many.keras")
    np.testing.assert_array_equal(loaded.predict([x_img, x_seq], verbose=0), before)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    assert len(loaded.losses) == 1


@keras.saving.register_keras_serializable(package="tests")
class _Sub(keras.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.first = layers.Dense(units, activation="relu")
        self.stack = [layers.Dense(2), layers.Dense(1)]          # a list of layers is tracked

    def call(self, x, training=None):
        y = self.first(x)
        for layer in self.stack:
            y = layer(y)
        return y

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_model_summary_and_save(tmp_path):
    ember.manual_seed(0)
    m = _Sub(5)
    x = np.ones((2, 4), dtype=np.float32)
    p = m.predict(x, verbose=0)
    text = _summary_text(m)
    assert [type(l).__name__ for l in m.layers] == ["Dense", "Dense", "Dense"]
    assert "Total params: 40" in text and "(None, 1)" in text
    m.save(tmp_path / "sub.keras")
    m2 = keras.models.load_model(tmp_path / "sub.keras")
    assert type(m2) is _Sub and m2.units == 5
    np.testing.assert_array_equal(m2.predict(x, verbose=0), p)
