"""``Progbar``: Keras-style progress bar.

On a terminal the bar redraws in place (``\\r``) at most every ``interval`` seconds::

    12/50 [======>.......................] - ETA: 3s - loss: 0.4312 - accuracy: 0.8750

When the stream is not a terminal (a log file, CI), it writes whole lines only: one when the bar
completes and, for long epochs, one every ``log_interval`` seconds, so logs stay clean and small.
Values given through ``update(values=...)`` are averaged over the epoch unless listed in
``stateful_metrics`` (those are shown as given; the trainer passes running metric results that way).
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progbar", "format_logs"]


def _fmt_value(v) -> str:
    v = float(v)
    return f"{v:.4f}" if 1e-3 <= abs(v) < 1e4 or v == 0 else f"{v:.4e}"


def format_logs(logs: dict) -> str:
    """`` - loss: 0.1234 - accuracy: 0.9000`` for a logs dict (non-numeric entries are skipped)."""
    parts = []
    for k, v in logs.items():
        try:
            parts.append(f"{k}: {_fmt_value(v)}")
        except (TypeError, ValueError):
            continue
    return "".join(" - " + p for p in parts)


def _fmt_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(round(seconds))}s"


def _per_step(seconds: float, unit: str) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """Progress bar for ``target`` steps (``None``: unknown length).

    ``verbose=1``: the bar; ``verbose=2``: only the final line; ``verbose=0``: nothing.
    """

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics=None, unit_name: str = "step", stream=None, log_interval: float = 10.0):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.log_interval = log_interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty())
        self._values: dict[str, list] = {}     # name -> [weighted sum, weight] or [value, None]
        self._start = time.perf_counter()
        self._last_update = 0.0
        self._last_line = self._start
        self._prev_len = 0
        self._seen = 0
        self._finalized = False

    def _accumulate(self, values, step: int):
        for k, v in values or ():
            if k in self.stateful_metrics:
                self._values[k] = [v, None]
            else:
                n = max(step - self._seen, 1)
                acc = self._values.setdefault(k, [0.0, 0])
                acc[0] += float(v) * n
                acc[1] += n

    def _logs(self) -> dict:
        return {k: (s if w is None else s / max(w, 1)) for k, (s, w) in self._values.items()}

    def _line(self, current: int, finalize: bool) -> str:
        now = time.perf_counter()
        elapsed = now - self._start
        per = elapsed / current if current else 0.0
        if self.target is not None:
            digits = len(str(self.target))
            head = f"{current:{digits}d}/{self.target}"
            done = int(self.width * min(current, self.target) / self.target) if self.target else self.width
            bar = "=" * max(done - 1, 0) + ((">" if current < self.target else "=") if done else "")
            if self.verbose == 1:          # verbose=2 lines carry no bar, as in Keras
                head += " [" + bar + "." * (self.width - len(bar)) + "]"
        else:
            head = f"{current}"
        if finalize:
            timing = f" - {_fmt_time(elapsed)} {_per_step(per, self.unit_name)}"
        elif self.target is not None:
            timing = f" - ETA: {_fmt_time(per * (self.target - current))}"
        else:
            timing = f" - {_fmt_time(elapsed)} {_per_step(per, self.unit_name)}"
        return head + timing + format_logs(self._logs())

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Move to step ``current``; ``values`` is a list of (name, value) pairs."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._accumulate(values, current)
        self._seen = current
        if self.verbose == 0 or self._finalized:
            return
        now = time.perf_counter()
        if finalize:
            self._finalized = True
        if self.verbose == 1 and self.dynamic:
            if not finalize and now - self._last_update < self.interval:
                return
            line = self._line(current, finalize)
            pad = " " * max(self._prev_len - len(line), 0)
            self.stream.write("\r" + line + pad + ("\n" if finalize else ""))
            self._prev_len = len(line)
        elif finalize:
            self.stream.write(self._line(current, True) + "\n")
        elif self.verbose == 1 and now - self._last_line >= self.log_interval:
            self.stream.write(self._line(current, False) + "\n")
            self._last_line = now
        else:
            return
        self._last_update = now
        self.stream.flush()

    def add(self, n: int, values=None) -> None:
        self.update(self._seen + n, values)
