"""Trainer on plain nn.Modules: convergence, data inputs, evaluate/predict, callbacks (early stopping,
checkpoints, TensorBoard, CSV, LR schedules, NaN termination, lambdas)."""

import csv
import math

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.nn.losses import CrossEntropyLoss, MSELoss
from ember.train import (CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                         ReduceLROnPlateau, TensorBoard, TerminateOnNaN, Trainer)
from ember.train.state_io import load_state
from ember.utils.data import DataLoader, TensorDataset


def _regression(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32))[:, None] + 0.25
    return x, y


def _trainer(lr=0.1, callbacks=None, seed=0):
    ember.manual_seed(seed)
    m = nn.Linear(4, 1)
    return Trainer(m, optim.SGD(m.parameters(), lr=lr), MSELoss(), metrics=["mae"], callbacks=callbacks)


def test_linear_regression_converges_and_evaluate_predict():
    x, y = _regression()
    t = _trainer()
    h = t.fit((x, y), epochs=8, batch_size=16, verbose=0, val_data=(x, y))
    assert h.history["loss"][-1] < 1e-3 and h.history["val_loss"][-1] < 1e-3
    assert h.history["loss"][0] > h.history["loss"][-1] * 100
    logs = t.evaluate((x, y), verbose=0)
    pred = t.predict(x, batch_size=50)
    assert pred.shape == (128, 1)
    assert logs["loss"] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-4)
    assert logs["mae"] == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-4)
    assert not t.model.training                # predict/evaluate leave eval mode


def test_classification_with_dataloader_and_accuracy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2)).astype(np.float32)
    y = (x[:, 0] > x[:, 1]).astype(np.int64)
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    loader = DataLoader(TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=32, shuffle=True)
    t = Trainer(m, optim.Adam(m.parameters(), lr=0.02), CrossEntropyLoss(), metrics=["accuracy"])
    h = t.fit(loader, epochs=10, val_data=loader, verbose=0)
    assert h.history["val_accuracy"][-1] >= 0.95
    assert type(t._metrics[0]).__name__ == "SparseCategoricalAccuracy"


def test_generator_needs_steps_or_ends():
    x, y = _regression()

    def gen():
        while True:
            for i in range(0, 128, 32):
                yield x[i:i + 32], y[i:i + 32]

    t = _trainer()
    h = t.fit(gen(), epochs=3, steps_per_epoch=4, verbose=0)
    assert len(h.history["loss"]) == 3
    finite = ((x[i:i + 32], y[i:i + 32]) for i in range(0, 128, 32))
    with pytest.raises(ValueError, match="produced no batches"):
        _trainer().fit(finite, epochs=2, verbose=0)


def _lr_schedule(epoch, lr):
    # three good epochs, then a learning rate that makes SGD diverge
    return 0.05 if epoch < 3 else 1.5


class _Snapshots(LambdaCallback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.trainer.get_weights_snapshot())


@pytest.mark.parametrize("patience", [1, 100])
def test_early_stopping_restores_best_weights(patience):
    x, y = _regression()
    snaps = _Snapshots()
    es = EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    t = _trainer(callbacks=[LearningRateScheduler(_lr_schedule), snaps, es])
    h = t.fit((x, y), epochs=6, batch_size=16, val_data=(x, y), verbose=0)
    val = h.history["val_loss"]
    best = int(np.argmin(val))
    assert best == 2 and val[3] > val[2]
    if patience == 1:
        assert len(val) == 4 and es.stopped_epoch == 3
    else:
        assert len(val) == 6 and es.stopped_epoch == 0     # patience never ran out: still restored
    final = t.get_weights_snapshot()
    for k in final:
        np.testing.assert_array_equal(final[k], snaps.weights[best][k])
    assert t.evaluate((x, y), verbose=0)["loss"] == pytest.approx(val[best], rel=1e-5)


def test_early_stopping_min_delta_and_mode():
    es = EarlyStopping(monitor="val_accuracy", min_delta=0.1, patience=0)
    assert es.mode == "max"
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        EarlyStopping(mode="up")


def test_model_checkpoint_best_only_and_reload(tmp_path):
    x, y = _regression()
    path = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.4f}.safetensors")
    cb = ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    t = _trainer(callbacks=[LearningRateScheduler(_lr_schedule), cb])
    h = t.fit((x, y), epochs=5, batch_size=16, val_data=(x, y), verbose=0)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"ckpt-{e + 1:02d}-{h.history['val_loss'][e]:.4f}.safetensors" for e in range(3)]
    assert not any(n.startswith(".") for n in files)        # no temporary files left behind
    m2 = nn.Linear(4, 1)
    m2.load_state_dict(load_state(tmp_path / files[-1]))
    t.model.load_state_dict(load_state(tmp_path / files[-1]))
    with ember.no_grad():
        np.testing.assert_array_equal(m2(ember.tensor(x)).numpy(), t.model(ember.tensor(x)).numpy())
    with pytest.raises(KeyError, match="names 'nope'"):
        _trainer(callbacks=[ModelCheckpoint(str(tmp_path / "{nope}.st"))]).fit((x, y), epochs=1, verbose=0)


def test_tensorboard_scalars_and_histograms_read_back(tmp_path):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = _regression()
    tb = TensorBoard(log_dir=str(tmp_path), histogram_freq=1, update_freq="batch")
    t = _trainer(callbacks=[tb])
    h = t.fit((x, y), epochs=3, batch_size=32, val_data=(x, y), verbose=0)
    acc = ea_mod.EventAccumulator(str(tmp_path / "train"), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    for key, tag in (("loss", "epoch_loss"), ("mae", "epoch_mae")):
        events = acc.Scalars(tag)
        assert [e.step for e in events] == [0, 1, 2]
        np.testing.assert_allclose([e.value for e in events], h.history[key], rtol=1e-6)
    assert [e.step for e in acc.Scalars("batch_loss")] == list(range(1, 13))
    assert set(acc.Tags()["histograms"]) == {"weight", "bias"}
    hist = acc.Histograms("weight")[-1].histogram_value
    assert hist.num == 4 and hist.min == pytest.approx(float(t.model.weight.detach().numpy().min()))
    val = ea_mod.EventAccumulator(str(tmp_path / "validation"))
    val.Reload()
    np.testing.assert_allclose([e.value for e in val.Scalars("epoch_loss")], h.history["val_loss"], rtol=1e-6)


def test_csv_logger_rows(tmp_path):
    x, y = _regression()
    f = tmp_path / "log.csv"
    h = _trainer(callbacks=[CSVLogger(str(f))]).fit((x, y), epochs=3, batch_size=32, verbose=0)
    rows = list(csv.DictReader(open(f)))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], h.history["loss"], rtol=1e-9)


def test_reduce_lr_on_plateau_and_scheduler():
    x, y = _regression()
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1e9, min_lr=0.01)
    t = _trainer(lr=0.08, callbacks=[cb])
    h = t.fit((x, y), epochs=5, batch_size=32, verbose=0)
    # never "improves" by 1e9: from the second epoch on the lr halves at each epoch end, down to min_lr;
    # the logged value is the rate the epoch ran with
    assert h.history["learning_rate"] == pytest.approx([0.08, 0.08, 0.04, 0.02, 0.01])
    assert t.get_lr() == pytest.approx(0.01)
    t2 = _trainer(callbacks=[LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)])
    h2 = t2.fit((x, y), epochs=3, batch_size=32, verbose=0)
    assert h2.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])


def test_lr_scheduler_object_is_stepped_per_epoch():
    x, y = _regression()
    ember.manual_seed(0)
    m = nn.Linear(4, 1)
    opt = optim.SGD(m.parameters(), lr=0.1)
    t = Trainer(m, opt, MSELoss(), lr_scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    t.fit((x, y), epochs=3, verbose=0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125)


def test_terminate_on_nan_and_lambda_hooks(capsys):
    x, y = _regression()
    y = y.copy()
    y[0] = np.nan
    calls = []
    cb = LambdaCallback(on_epoch_begin=lambda e, logs: calls.append(("epoch", e)),
                        on_batch_end=lambda b, logs: calls.append(("batch", b)),
                        on_train_end=lambda logs: calls.append("end"))
    h = _trainer(callbacks=[cb, TerminateOnNaN()]).fit((x, y), epochs=3, batch_size=32, verbose=0, shuffle=False)
    assert calls == [("epoch", 0), ("batch", 0), "end"]
    assert math.isnan(h.history["loss"][0]) and len(h.history["loss"]) == 1
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    with pytest.raises(TypeError, match="unknown hook 'on_nothing'"):
        LambdaCallback(on_nothing=print)


def test_sample_weight_with_reduction_none_loss():
    x, y = _regression(8)
    ember.manual_seed(0)
    m = nn.Linear(4, 1)
    t = Trainer(m, optim.SGD(m.parameters(), lr=0.0), MSELoss())
    w = np.array([1, 0, 0, 0, 0, 0, 0, 0], dtype=np.float32)
    logs = t.evaluate((x, y, w), verbose=0)
    pred = t.predict(x)
    assert logs["loss"] == pytest.approx(((pred[0, 0] - y[0, 0]) ** 2) / 8, rel=1e-5)


def test_callbacks_build_from_config():
    from ember.train import callbacks
    cb = callbacks.build({"type": "EarlyStopping", "monitor": "loss", "patience": 3})
    assert isinstance(cb, EarlyStopping) and cb.patience == 3 and cb.monitor == "loss"
    with pytest.raises(ValueError, match="unknown callback type 'Nope'"):
        callbacks.build({"type": "Nope"})
