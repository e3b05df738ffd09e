"""Checks of Keras models by what they are, not how they were written.

A model built with ``Sequential([...])``, with ``add()`` calls, with the
functional API or by subclassing is described the same way: its Dense layers
in order, each with its number of units and its activation (a separate
``Activation`` layer counts as the activation of the Dense layer before it),
its input size, and how it was compiled.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from course.feedback import FeedbackError

__all__ = ["ModelSummary", "summarize", "check_model"]

_LOSS_HINTS = {
    "binary_crossentropy": ["Hint: a binary (0/1) target with one sigmoid output uses 'binary_crossentropy'."],
    ("categorical_crossentropy", "sparse_categorical_crossentropy"): [
        "Hint: the labels are one-hot vectors here: 'sparse_categorical_crossentropy' expects "
        "integer labels, 'categorical_crossentropy' one-hot ones."],
    "categorical_crossentropy": ["Hint: several classes with a softmax output use 'categorical_crossentropy'."],
}
_ACCURACY = {"accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy"}


@dataclass
class ModelSummary:
    dense: list[tuple[int, str]]          # (units, activation) of each Dense layer, in order
    other_layers: list[str]               # class names of layers that are neither Dense nor Activation
    input_dim: int | None
    compiled: bool
    loss: str | None
    from_logits: bool
    optimizer: str | None
    learning_rate: float | None
    metrics: list[str]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _activation_name(act: Any) -> str:
    if act is None:
        return "linear"
    if isinstance(act, str):
        return act.lower()
    name = getattr(act, "__name__", None) or type(act).__name__
    return _snake(name) if name[:1].isupper() else name.lower()


def _layers(model: Any) -> list:
    import keras

    out = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):  # a nested model: look inside
            out.extend(_layers(layer))
        else:
            out.append(layer)
    return out


def _input_dim(model: Any) -> int | None:
    try:
        shape = model.input_shape
    except Exception:
        shape = None
    if shape is not None and not isinstance(shape, list):
        return shape[-1]
    for layer in _layers(model):  # subclassed models: the first Dense layer's kernel
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            return int(kernel.shape[0])
    return None


def _loss_name(loss: Any) -> tuple[str | None, bool]:
    if loss is None:
        return None, False
    if isinstance(loss, str):
        return loss.lower(), False
    from_logits = bool(getattr(loss, "from_logits", False))
    if hasattr(loss, "fn") and getattr(loss.fn, "__name__", None):  # a LossFunctionWrapper
        return loss.fn.__name__, from_logits
    name = getattr(loss, "__name__", None) or type(loss).__name__
    return (_snake(name) if name[:1].isupper() else name), from_logits


def _metric_names(model: Any) -> list[str]:
    try:
        metrics = model.get_compile_config().get("metrics") or []
    except Exception:
        metrics = []
    names = []
    for m in metrics if isinstance(metrics, (list, tuple)) else [metrics]:
        if isinstance(m, str):
            names.append(m.lower())
        elif isinstance(m, dict):  # serialized metric objects
            names.append(_snake(m.get("class_name", "")) or str(m))
        else:
            names.append(_snake(type(m).__name__) if not callable(m) or hasattr(m, "update_state")
                         else getattr(m, "__name__", str(m)))
    return names


def summarize(model: Any) -> ModelSummary:
    """Describe a Keras model (see the module docstring)."""
    import keras

    dense: list[list] = []
    other = []
    for layer in _layers(model):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Dense):
            dense.append([int(layer.units), _activation_name(layer.activation)])
        elif isinstance(layer, (keras.layers.Activation, keras.layers.Softmax, keras.layers.ReLU)):
            act = "softmax" if isinstance(layer, keras.layers.Softmax) else \
                  "relu" if isinstance(layer, keras.layers.ReLU) else _activation_name(layer.activation)
            if dense and dense[-1][1] == "linear":
                dense[-1][1] = act
            else:
                other.append(type(layer).__name__)
        else:
            other.append(type(layer).__name__)
    compiled = bool(getattr(model, "compiled", False)) and getattr(model, "optimizer", None) is not None
    loss, from_logits = _loss_name(getattr(model, "loss", None)) if compiled else (None, False)
    optimizer = type(model.optimizer).__name__ if compiled else None
    lr = None
    if compiled:
        try:
            lr = float(model.optimizer.learning_rate)
        except Exception:
            lr = None
    return ModelSummary([tuple(d) for d in dense], other, _input_dim(model), compiled, loss, from_logits,
                        optimizer, lr, _metric_names(model) if compiled else [])


def _fail(name: str, headline: str, lines: Sequence[str] = ()) -> None:
    raise FeedbackError("\n  ".join([f"{name}: {headline}", *lines]))


def check_model(
    name: str,
    model: Any,
    *,
    input_dim: int,
    layers: Sequence[tuple[int, str]],
    loss: str | None = None,
    optimizer: str | None = None,
    learning_rate: float | None = None,
    accuracy: bool = False,
) -> None:
    """Check a Keras model's structure (and compilation, if asked); raise FeedbackError if wrong.

    ``layers`` lists the expected Dense layers as (units, activation).  Returns nothing, like
    ``course.feedback.check``: a grade cell that ends with this call shows no output (nbgrader
    reads a grade cell's output as its score).  ``summarize(model)`` gives the summary.
    """
    import keras

    if model is None:
        _fail(name, "gave None.", ["Did you forget to `return model`?"])
    if not isinstance(model, keras.Model):
        _fail(name, f"should be a Keras model, but it is a {type(model).__name__}.")
    s = summarize(model)
    if s.input_dim is None:  # a subclassed model is built by its first call
        try:
            model(np.zeros((1, input_dim), dtype="float32"))
            s = summarize(model)
        except Exception:
            pass
    if s.input_dim is None:
        _fail(name, "the model does not know its input size.",
              [f"Start it with keras.Input(shape=({input_dim},)) so Keras can build it."])
    if s.input_dim != input_dim:
        _fail(name, f"the input should have {input_dim} features, the model takes {s.input_dim}.")
    want = [(int(u), a) for u, a in layers]
    if s.dense != want:
        lines = [f"expected Dense layers (units, activation): {want}", f"got:                                    {s.dense}"]
        if len(s.dense) < len(want):
            lines.append("Hint: a layer is missing; count the hidden layers.")
        elif len(s.dense) > len(want):
            lines.append("Hint: there are more Dense layers than asked for.")
        if s.dense and s.dense[-1] == (1, "softmax"):
            lines.append("Hint: softmax over a single unit is always 1.0; for one output use the sigmoid.")
        elif [a for _, a in s.dense] != [a for _, a in want] and len(s.dense) == len(want):
            lines.append("Hint: check the activation of each layer.")
        _fail(name, "the layers are not right.", lines)
    if s.other_layers:
        _fail(name, f"it has layers that were not asked for: {s.other_layers}.")
    if loss is None and optimizer is None and not accuracy:
        return
    if not s.compiled:
        _fail(name, "the model is not compiled.", ["Call model.compile(optimizer=..., loss=..., metrics=[...]) before returning it."])
    if loss is not None and s.loss != loss:
        _fail(name, f"the loss should be {loss!r}, it is {s.loss!r}.",
              _LOSS_HINTS.get((loss, s.loss), _LOSS_HINTS.get(loss, [])))
    if loss is not None and s.from_logits:
        _fail(name, "the loss is computed from logits, but the output already goes through an activation.",
              ["Use from_logits=False (the default) with a sigmoid or softmax output."])
    if optimizer is not None and s.optimizer != optimizer:
        _fail(name, f"the optimizer should be {optimizer}, it is {s.optimizer}.")
    if learning_rate is not None and (s.learning_rate is None or not np.isclose(s.learning_rate, learning_rate)):
        _fail(name, f"the learning rate should be {learning_rate:g}, it is {s.learning_rate}.",
              ["Hint: pass the function's learning_rate argument to the optimizer."])
    if accuracy and not _ACCURACY & set(s.metrics):
        _fail(name, f"the metrics should include accuracy; they are {s.metrics}.",
              ["Compile with metrics=['accuracy']."])
