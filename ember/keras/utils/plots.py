"""Plots: ``plot_history`` (loss and metric curves, matplotlib) and ``plot_model`` (the layer graph,
graphviz)."""

from __future__ import annotations

import os

__all__ = ["plot_history", "plot_model", "model_to_dot"]


def plot_history(history, path, metrics=None, title=None, dpi: int = 100) -> str:
    """Write a PNG with one panel per quantity (``loss`` and each metric), training and validation
    curves together. ``history``: a ``History`` or its ``.history`` dict. Returns ``path``."""
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:          # pragma: no cover - depends on the environment
        raise ImportError("plot_history needs matplotlib: pip install matplotlib (or ember[plot])") from e
    logs = history.history if hasattr(history, "history") else dict(history)
    if not logs:
        raise ValueError("plot_history: the history is empty (was fit run?)")
    names = [k for k in logs if not k.startswith("val_") and k != "learning_rate"]
    if metrics is not None:
        missing = [m for m in metrics if m not in logs]
        if missing:
            raise ValueError(f"plot_history: {missing} not in the history (has {sorted(logs)})")
        names = list(metrics)
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        values = logs[name]
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, marker="o", ms=3, label=f"train {name}")
        if "val_" + name in logs:
            ax.plot(range(1, len(logs["val_" + name]) + 1), logs["val_" + name], marker="o", ms=3,
                    label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(os.fspath(path))), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def _graphviz():
    try:
        import graphviz
    except ImportError as e:
        raise ImportError("plot_model needs the 'graphviz' Python package and the Graphviz programs: "
                          "pip install graphviz, and install Graphviz itself (e.g. apt-get install graphviz, "
                          "brew install graphviz)") from e
    return graphviz


def model_to_dot(model, show_shapes: bool = False, show_layer_names: bool = True, rankdir: str = "TB"):
    """A ``graphviz.Digraph`` of the model's layers (functional graph edges, or the stack order)."""
    graphviz = _graphviz()
    dot = graphviz.Digraph(name=model.name, graph_attr={"rankdir": rankdir}, node_attr={"shape": "record"})

    def label(layer):
        text = f"{layer.name} ({type(layer).__name__})" if show_layer_names else type(layer).__name__
        if show_shapes:
            text += f"|{getattr(layer, '_output_shape', None)}"
        return text.replace("{", "(").replace("}", ")").replace("<", "(").replace(">", ")")

    layers = model.layers
    for layer in layers:
        dot.node(str(id(layer)), label(layer))
    if getattr(model, "_functional", False):
        for node in model._nodes:
            for parent in node.parents:
                dot.edge(str(id(parent.node.layer)), str(id(node.layer)))
    else:
        for a, b in zip(layers, layers[1:]):
            dot.edge(str(id(a)), str(id(b)))
    return dot


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               **kwargs):
    """Draw the layer graph to ``to_file`` (format from the extension: png, svg, pdf, dot)."""
    dot = model_to_dot(model, show_shapes=show_shapes, show_layer_names=show_layer_names, rankdir=rankdir)
    base, ext = os.path.splitext(os.fspath(to_file))
    fmt = (ext[1:] or "png").lower()
    if fmt == "dot":
        with open(to_file, "w") as f:
            f.write(dot.source)
        return to_file
    dot.graph_attr["dpi"] = str(dpi)
    try:
        dot.render(base, format=fmt, cleanup=True)
    except Exception as e:
        if type(e).__name__ == "ExecutableNotFound":
            raise ImportError("plot_model needs the Graphviz programs ('dot'): install Graphviz (e.g. apt-get "
                              "install graphviz, brew install graphviz)") from e
        raise
    return to_file
