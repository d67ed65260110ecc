"""Plain-Keras export: every method layer becomes a ``Dense``/``Conv2D`` with its effective kernel.

A trained model of any method applies, in each method layer
(:class:`~masktrainer.nn.method_layer.MethodLayer`), an *effective kernel* that
is a function of a frozen random tensor and what training chose. :func:`to_plain_model` clones the model's
structure (nested models included, e.g. a LaPerm augmentation model in front
of the notebook model) and replaces each method layer by a bias-free
``keras.layers.Dense`` / ``keras.layers.Conv2D`` of the same geometry and
activation that holds ``get_effective_kernel()``; every other layer keeps its
class and its weights. The result needs no masktrainer code to load and
predicts like the trained model (slot layers: the argmax selection, i.e. the
evaluation-mode network). :func:`with_preprocessing` puts the run's input
normalisation (its binary input scale included) in front as a standard
``keras.layers.Normalization``, so the exported model takes raw 0..255 pixels.
"""

from __future__ import annotations

from typing import Callable, Iterator

import keras
import numpy as np

from masktrainer.nn.method_layer import MethodLayer

# How a method layer's plain kernel is obtained (the compact loader decodes its own).
KernelSource = Callable[[keras.layers.Layer], np.ndarray]


def is_method_layer(layer: keras.layers.Layer) -> bool:
    """True for the layers whose kernel is derived (masked, top-k, slot-selected)."""
    return isinstance(layer, MethodLayer)


def plain_activation(layer: keras.layers.Layer) -> str:
    """The Keras activation name computing what ``apply_activation`` computes for ``layer``."""
    name = getattr(layer, "activation", None)
    if name is None or name == "linear":
        return "linear"
    if name == "selu" and getattr(layer, "selu_is_elu", False):
        return "elu"  # the original's substring-test quirk, kept by the trained layer
    if name in ("relu", "sigmoid", "elu", "selu", "softmax", "swish"):
        return name
    raise ValueError(f"layer {layer.name}: activation {name!r} has no plain Keras equivalent")


def plain_layer_for(layer: keras.layers.Layer) -> keras.layers.Layer:
    """A bias-free Dense/Conv2D with the geometry, activation, name and dtype of ``layer``."""
    common = {
        "activation": plain_activation(layer),
        "use_bias": False,
        "name": layer.name,
        "dtype": layer.dtype_policy,
    }
    if hasattr(layer, "filters"):
        return keras.layers.Conv2D(
            layer.filters,
            tuple(layer.kernel_size),
            strides=layer.strides,
            padding=layer.padding,
            **common,
        )
    return keras.layers.Dense(layer.units, **common)


def effective_kernel(layer: MethodLayer) -> np.ndarray:
    """The kernel a method layer applies at evaluation, as a float32 array."""
    return np.asarray(layer.get_effective_kernel(), np.float32)


def leaf_layers(model: keras.Model) -> Iterator[keras.layers.Layer]:
    """Every non-model layer of ``model`` in order, descending into nested models."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def method_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The method layers of ``model`` (nested models included), in order."""
    return [layer for layer in leaf_layers(model) if is_method_layer(layer)]


def clone_structure(
    model: keras.Model,
) -> tuple[keras.Model, list[tuple[keras.layers.Layer, keras.layers.Layer]]]:
    """The plain clone of ``model`` (fresh weights) and its (source, clone) leaf pairs."""
    pairs: list[tuple[keras.layers.Layer, keras.layers.Layer]] = []

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if is_method_layer(layer):
            new = plain_layer_for(layer)
        else:
            new = layer.__class__.from_config(layer.get_config())
        pairs.append((layer, new))
        return new

    plain = keras.models.clone_model(model, clone_function=clone, recursive=True)
    return plain, pairs


def copy_weights(
    pairs: list[tuple[keras.layers.Layer, keras.layers.Layer]],
    kernel_of: KernelSource = effective_kernel,
) -> None:
    """Method layers get ``kernel_of(source)``; every other layer the source's weights."""
    for source, target in pairs:
        if is_method_layer(source):
            value = kernel_of(source)
            if tuple(value.shape) != tuple(target.kernel.shape):
                raise ValueError(
                    f"layer {source.name}: kernel {value.shape} vs {tuple(target.kernel.shape)}"
                )
            target.kernel.assign(value)
        elif source.weights:
            target.set_weights(source.get_weights())


def to_plain_model(model: keras.Model) -> keras.Model:
    """The trained ``model`` as standard Keras layers with the effective kernels folded in."""
    plain, pairs = clone_structure(model)
    copy_weights(pairs)
    return plain


def export_notes(model: keras.Model) -> list[str]:
    """What exporting ``model`` changes (each different note once, e.g. sampling at evaluation)."""
    return list(dict.fromkeys(note for layer in method_layers(model)
                              if (note := layer.export_note()) is not None))


def kernel_bytes(model: keras.Model) -> int:
    """Bytes of the Dense/Conv2D kernels of a plain model stored densely as float32."""
    total = 0
    for layer in leaf_layers(model):
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and len(kernel.shape) >= 2:
            total += int(np.prod(kernel.shape)) * 4
    return total


def non_standard_layers(model: keras.Model) -> list[str]:
    """Names of the layers of ``model`` whose class is not one of Keras' own."""
    return [
        f"{layer.name} ({type(layer).__name__})"
        for layer in leaf_layers(model)
        if not type(layer).__module__.startswith("keras.")
    ]


def with_preprocessing(model: keras.Model, mean: np.ndarray, std: np.ndarray) -> keras.Model:
    """``model`` behind a ``Normalization`` layer computing ``(raw - mean) / std`` (arrays
    broadcastable to one input): it then takes raw pixels, as the data files hold them."""
    shape = tuple(int(d) for d in model.input_shape[1:])
    mean = np.broadcast_to(np.asarray(mean, np.float32), shape)
    variance = np.square(np.broadcast_to(np.asarray(std, np.float64), shape))
    raw = keras.Input(shape, name="raw_pixels")
    normalise = keras.layers.Normalization(axis=tuple(range(-len(shape), 0)), mean=mean,
                                           variance=variance.astype(np.float32),
                                           name="preprocessing")
    return keras.Model(raw, model(normalise(raw)), name=f"{model.name}_on_raw_pixels")
