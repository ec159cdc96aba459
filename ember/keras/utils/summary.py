"""``model.summary()``: one row per layer (name and type, output shape, parameter count) and the totals
of trainable and non-trainable parameters (non-trainable: frozen parameters and floating-point state
such as BatchNormalization's moving statistics)."""

from __future__ import annotations

__all__ = ["count_params", "print_summary"]


def count_params(model) -> tuple[int, int]:
    """(trainable, non_trainable) scalar counts of ``model.weights``."""
    trainable = sum(p.numel() for p in model.trainable_weights)
    total = sum(v.numel() for v in model.weights)
    return int(trainable), int(total - trainable)


def _fmt_shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_fmt_shape(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, list) or (isinstance(shape, tuple) and shape and isinstance(shape[0], (tuple, list))):
        return "[" + ", ".join(_fmt_shape(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _layer_params(layer) -> int:
    if hasattr(layer, "weights"):
        return int(sum(v.numel() for v in layer.weights))
    return int(sum(p.numel() for p in layer.parameters()))


def print_summary(model, line_length=None, print_fn=None, show_trainable=False) -> None:
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")
    print_fn = print_fn or print
    widths = [max(42, (line_length or 0) // 2), 26, 12]
    if show_trainable:
        widths.append(10)
    total_w = sum(widths)

    def row(cols):
        return "".join(str(c)[:w - 1].ljust(w) if i < len(widths) - 1 or i == 0 else str(c).rjust(w)
                       for i, (c, w) in enumerate(zip(cols, widths)))

    from .summary import count_params as _cp
    lines = [f'Model: "{model.name}"', "_" * total_w,
             row(["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else [])),
             "=" * total_w]
    layers = model.layers
    for i, layer in enumerate(layers):
        name = getattr(layer, "name", type(layer).__name__)
        shape = getattr(layer, "_output_shape", None)
        cols = [f"{name} ({type(layer).__name__})", _fmt_shape(shape), f"{_layer_params(layer):,}"]
        if show_trainable:
            cols.append("Y" if getattr(layer, "trainable", True) else "N")
        lines.append(row(cols))
        lines.append(("_" if i < len(layers) - 1 else "=") * total_w if i < len(layers) - 1 else "=" * total_w)
    if not layers:
        lines.append("=" * total_w)
    trainable, non_trainable = _cp(model)
    lines += [f"Total params: {trainable + non_trainable:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {non_trainable:,}", "_" * total_w]
    for line in lines:
        print_fn(line)
