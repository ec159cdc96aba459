"""Progress bar: in-place redraws on a terminal, clean whole lines otherwise, verbose=2 one line per epoch."""

import io

import numpy as np

from ember import nn, optim
from ember.nn.losses import MSELoss
from ember.train import Progbar, Trainer


class _TTY(io.StringIO):
    def isatty(self):
        return True


def test_non_terminal_output_is_line_by_line():
    s = io.StringIO()
    bar = Progbar(10, stream=s)
    for i in range(1, 11):
        bar.update(i, [("loss", 1.0 / i)])
    out = s.getvalue()
    assert "\r" not in out and "\b" not in out
    lines = out.splitlines()
    assert len(lines) == 1                       # short epochs: only the final line
    assert lines[0].startswith("10/10 [==============================]")
    # the running mean of the given values
    assert f"loss: {np.mean([1.0 / i for i in range(1, 11)]):.4f}" in lines[0]


def test_terminal_output_redraws_with_eta():
    s = _TTY()
    bar = Progbar(4, stream=s, interval=0.0)
    bar.update(1, [("loss", 2.0)])
    bar.update(2, [("loss", 4.0)])
    out = s.getvalue()
    assert out.count("\r") == 2 and "ETA:" in out and "loss: 3.0000" in out
    bar.update(4, [("loss", 3.0)])
    assert s.getvalue().endswith("\n")


def test_stateful_values_shown_as_given():
    s = io.StringIO()
    bar = Progbar(2, stream=s, stateful_metrics=["acc"])
    bar.update(1, [("acc", 0.5)])
    bar.update(2, [("acc", 0.75)])
    assert "acc: 0.7500" in s.getvalue()


def _fit(verbose, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x.sum(1, keepdims=True)
    m = nn.Linear(3, 1)
    Trainer(m, optim.SGD(m.parameters(), lr=0.05), MSELoss()).fit((x, y), epochs=3, batch_size=16, verbose=verbose,
                                                                  val_data=(x, y))
    return capsys.readouterr().out


def test_fit_verbose_modes(capsys):
    out1 = _fit(1, capsys)
    assert out1.count("Epoch ") == 3 and "Epoch 1/3" in out1 and "4/4 [" in out1 and "val_loss" in out1
    out2 = _fit(2, capsys)
    lines = [ln for ln in out2.splitlines() if ln.strip()]
    assert len(lines) == 6                       # "Epoch i/3" and one summary line per epoch
    assert all("loss:" in ln for ln in lines[1::2])
    assert _fit(0, capsys) == ""


def test_non_terminal_long_epochs_log_periodic_lines():
    s = io.StringIO()
    bar = Progbar(3, stream=s, log_interval=0.0)         # every update counts as "long enough"
    for i in range(1, 4):
        bar.update(i, [("loss", float(i))])
    lines = s.getvalue().splitlines()
    assert [ln.split(" ")[0] for ln in lines] == ["1/3", "2/3", "3/3"]
    assert "ETA:" in lines[0] and "ETA:" not in lines[-1] and "\r" not in s.getvalue()
