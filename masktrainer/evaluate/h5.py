"""Keras 2 ``.h5`` weight files, read with h5py and NumPy only (no TensorFlow).

Two layouts are read, the two that ``model.save_weights(...h5)`` and ``model.save(...h5)``
of Keras 2 write: the weights-only file (attribute ``layer_names`` at the top) and the
whole saved model (the same layout inside the group ``model_weights``, next to
``model_config``). Each layer group lists its arrays in the attribute ``weight_names``,
in the order the layer created them (kernel, bias; BN gamma, beta, moving mean, moving
variance). Layers without weights (Flatten, Dropout, Activation) are kept out.

:func:`match_layers` pairs the file's weighted layers with a model's, in order (as Keras
2's ``load_weights`` does by topological order), checks every shape and drops a bias the
model does not have, but only when it is exactly zero. Every problem is a
:class:`CheckpointError` of one line.

Only plain HDF5 is read: a weight reached through a soft or external link, a dataset kept in
external raw files or a virtual dataset (each of which reads bytes of other files as
weights) is refused before anything is read, and so is an array declaring more values than
any network here has, or holding NaN or infinity (a score of such weights means nothing).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Sequence

import h5py
import numpy as np

from masktrainer.safe_io import given_path

# The largest array of the largest LaPerm network (ResNet50) holds 2,359,296 values, the
# whole network about 25.6 million: far above that is a crafted declaration, not a network.
MAX_ARRAY_VALUES = 2**26
MAX_FILE_VALUES = 2**28
# ResNet50, the deepest network here, lists under 200 layers of at most 4 arrays each; names
# are Keras layer paths of a few dozen characters. Far above either is a crafted attribute.
MAX_NAMES = 10_000
MAX_NAME_BYTES = 1_024
WEIGHTS_ONLY = "weights-only"
WHOLE_MODEL = "whole model"


class CheckpointError(ValueError):
    """A weight file that cannot be read or does not fit the model (one line)."""


@dataclasses.dataclass(frozen=True)
class FileLayer:
    name: str
    weights: tuple[tuple[str, np.ndarray], ...]  # (weight name, values), in file order


@dataclasses.dataclass(frozen=True)
class WeightFile:
    path: Path
    layout: str  # WEIGHTS_ONLY or WHOLE_MODEL
    keras_version: str
    layers: tuple[FileLayer, ...]  # layers with weights only, in the file's layer order

    def describe(self) -> str:
        count = sum(len(layer.weights) for layer in self.layers)
        return (f"{self.path.name}: {self.layout} layout (Keras {self.keras_version}), "
                f"{len(self.layers)} layers with weights, {count} arrays")


@dataclasses.dataclass(frozen=True)
class ModelLayer:
    """What a model layer expects: its name and its weights' (name, shape) in order."""

    name: str
    weights: tuple[tuple[str, tuple[int, ...]], ...]


@dataclasses.dataclass(frozen=True)
class Matched:
    arrays: list[list[np.ndarray]]  # per model layer, ready for ``layer.set_weights``
    dropped: list[str]  # the zero bias vectors the model has no place for


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(group, attribute: str, where: str) -> list[str]:
    if attribute not in group.attrs:
        raise CheckpointError(f"{where} has no {attribute!r} attribute")
    # The declared count first: reading a crafted attribute of millions of names would take
    # memory in proportion before any other check could refuse it.
    declared = h5py.h5a.open(group.id, attribute.encode()).shape
    count = int(np.prod(declared, dtype=object)) if declared else 1
    if count > MAX_NAMES:
        raise CheckpointError(f"{where}: attribute {attribute!r} declares {count:,} names; "
                              f"no network here has over {MAX_NAMES:,}")
    names = [_text(name) for name in np.atleast_1d(group.attrs[attribute])]
    for name in names:
        if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise CheckpointError(f"{where}: attribute {attribute!r} holds a name of "
                                  f"{len(name):,} characters (a layer or weight name is short; "
                                  f"limit {MAX_NAME_BYTES:,} bytes)")
    return names


def _member(group, name: str, where: str):
    """``group[name]`` reached through hard links only (no soft or external link followed)."""
    current = group
    for part in [p for p in name.split("/") if p]:
        link = current.get(part, getlink=True)
        if link is None:
            return None
        if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
            kind = "an external" if isinstance(link, h5py.ExternalLink) else "a soft"
            raise CheckpointError(f"{where}: {name} is {kind} link; refusing HDF5 links "
                                  "(a weight file holds its arrays itself)")
        current = current.get(part)
    return current


def _check_dataset(data, name: str, where: str) -> int:
    """The declared number of values of a plain, bounded float dataset, or CheckpointError."""
    if not isinstance(data, h5py.Dataset) or data.dtype.kind != "f":
        raise CheckpointError(f"{where}: {name} is missing or not a float array")
    if data.is_virtual:
        raise CheckpointError(f"{where}: {name} is a virtual dataset (it reads other files); "
                              "refusing it")
    if data.external:
        raise CheckpointError(f"{where}: {name} keeps its values in external files; "
                              "refusing it")
    size = int(np.prod(data.shape, dtype=object)) if data.shape else 1
    if size > MAX_ARRAY_VALUES:
        raise CheckpointError(f"{where}: {name} declares shape {data.shape} ({size:.3g} "
                              f"values); no network here has an array over {MAX_ARRAY_VALUES:,}")
    return size


def read_weight_file(path: str | os.PathLike) -> WeightFile:
    """Every layer's arrays of a Keras 2 ``.h5`` file, or CheckpointError."""
    path = given_path(path, "--weights")
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist or is not a file")
    try:
        if not h5py.is_hdf5(path):
            raise CheckpointError(f"{path} is not an HDF5 file")
        with h5py.File(path, "r") as handle:
            return _read(path, handle)
    except OSError as err:  # h5py's errors for truncated or corrupt files
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(f"{path} cannot be read (truncated or corrupt HDF5: {reason})")


def _read(path: Path, handle: h5py.File) -> WeightFile:
    if "layer_names" in handle.attrs:
        root, layout = handle, WEIGHTS_ONLY
    elif isinstance(handle.get("model_weights"), h5py.Group):
        root, layout = handle["model_weights"], WHOLE_MODEL
    else:
        raise CheckpointError(f"{path} is HDF5 but not a Keras 2 weight file (no layer_names "
                              "attribute, no model_weights group)")
    listed: list[tuple[str, list[tuple[str, h5py.Dataset]]]] = []
    total = 0
    for name in _names(root, "layer_names", path.name):  # every check before any read
        group = _member(root, name, path.name)
        if not isinstance(group, h5py.Group):
            raise CheckpointError(f"{path.name}: layer {name!r} is listed but missing")
        datasets = []
        for weight in _names(group, "weight_names", f"{path.name}: layer {name!r}"):
            data = _member(group, weight, path.name)
            total += _check_dataset(data, weight, path.name)
            datasets.append((weight, data))
        listed.append((name, datasets))
    if total > MAX_FILE_VALUES:
        raise CheckpointError(f"{path.name}: its arrays declare {total:.3g} values in all; no "
                              f"network here has over {MAX_FILE_VALUES:,}")
    layers = []
    for name, datasets in listed:
        weights = []
        for weight, data in datasets:
            values = np.asarray(data[()], dtype=np.float32)
            bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
            if bad:
                raise CheckpointError(f"{path.name}: {weight} holds {bad} NaN or infinite "
                                      "value(s); refusing to score non-finite weights")
            weights.append((weight, values))
        if weights:
            layers.append(FileLayer(name, tuple(weights)))
    version = _text(root.attrs.get("keras_version", handle.attrs.get("keras_version", "?")))
    if len(version) > 40 or not version.isprintable():  # only ever shown: keep it one short line
        version = "unrecognised"
    return WeightFile(path, layout, version, tuple(layers))


def _is_bias(name: str) -> bool:
    return name.rsplit("/", 1)[-1].split(":", 1)[0] == "bias"


def _drop_zero_bias(source: str, layer: FileLayer, expected: ModelLayer,
                    dropped: list[str]) -> list[tuple[str, np.ndarray]]:
    """The layer's arrays without a bias the model lacks (refused unless exactly zero)."""
    weights = list(layer.weights)
    model_has_bias = any(_is_bias(name) for name, _ in expected.weights)
    if len(weights) != len(expected.weights) + 1 or model_has_bias:
        return weights
    for index, (name, values) in enumerate(weights):
        if _is_bias(name):
            if np.any(values != 0):
                raise CheckpointError(
                    f"{source}: {name} is not zero (max |b| {float(np.max(np.abs(values))):.3g}) "
                    f"and the model's {expected.name} has no bias; refusing to drop it")
            dropped.append(name)
            return weights[:index] + weights[index + 1:]
    return weights


def match_layers(source: str, file_layers: Sequence[FileLayer],
                 model_layers: Sequence[ModelLayer]) -> Matched:
    """The file's arrays for each model layer, in order, or CheckpointError."""
    if len(file_layers) != len(model_layers):
        raise CheckpointError(f"{source} holds {len(file_layers)} layers with weights; the "
                              f"model has {len(model_layers)}")
    arrays, dropped = [], []
    for position, (layer, expected) in enumerate(zip(file_layers, model_layers), start=1):
        weights = _drop_zero_bias(source, layer, expected, dropped)
        got = [tuple(values.shape) for _, values in weights]
        want = [shape for _, shape in expected.weights]
        if got != want:
            raise CheckpointError(f"{source}: layer {position} ({layer.name}) holds shapes "
                                  f"{got}; the model's {expected.name} needs {want}")
        arrays.append([values for _, values in weights])
    return Matched(arrays, dropped)
