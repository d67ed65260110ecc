"""The compact export: what a run learned, as bits, over weights regenerated from its config.

Every method here leaves the random weights of a run reproducible from its
``config.json`` and resolved seed (:func:`rebuild_initial_model` rebuilds the
model exactly as the trainer did). The compact file therefore stores only what
training chose, as plain numeric arrays (``np.load(..., allow_pickle=False)``):

* each method layer's own encoding (``MethodLayer.compact_encode``): the keep
  pattern at 1 bit per weight (masks; ``mask_rs`` adds its float32 scale), the
  sign pattern (``flip``), the selected slot in ``ceil(log2 K)`` bits (Slot
  Machines), ...;
* every other weight tensor: nothing (unchanged), a per-row permutation of its
  initial rows (int16/int32; LaPerm) or its float values (biases, BatchNorm
  statistics, trained kernels);
* the run's config as UTF-8 bytes, the input shape and the class count.

Keys are ``L<i>.<what>`` with ``i`` the position of the layer in
:func:`masktrainer.export.plain.leaf_layers` order. A frozen tensor that does not
regenerate bit for bit is stored as floats (``L<i>.base``), so the file is
always exact; :func:`encode_run` checks the decoding before it returns.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np

from laperm.layout import apply_permutation_map, permutation_map
from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.export.plain import clone_structure, is_method_layer, leaf_layers
from masktrainer.nn.bits import BitsError
from masktrainer.run.rundir import config_values

FORMAT_VERSION = 1
COMPACT_NAME = "compact.npz"


class CompactError(ValueError):
    """A compact file cannot be written or read faithfully."""


# -- permutations (LaPerm rows: a Dense column, a conv filter, a whole vector) ---------
def row_permutation(initial: np.ndarray, final: np.ndarray) -> np.ndarray | None:
    """``perm`` with ``final_row[p] == initial_row[perm[p]]`` per row, or None if none exists."""
    if initial.dtype != np.float32 or initial.ndim not in (1, 2, 4) or initial.shape != final.shape:
        return None
    try:
        perm = permutation_map(initial, final)
    except ValueError:
        return None
    return perm.astype(np.int16 if perm.shape[-1] <= 2**15 else np.int32)


# -- the run's model, rebuilt --------------------------------------------------------
def run_config(config: dict[str, Any]) -> RunConfig:
    """RunConfig from a run's config.json (its bookkeeping keys dropped)."""
    return RunConfig.from_dict(config_values(config))


def rebuild_initial_model(
    config: dict[str, Any], input_shape: Sequence[int], num_classes: int
) -> keras.Model:
    """The run's model before training, as the trainer built it (same resolved seed)."""
    seed = int(config["resolved_seed"])
    keras.utils.set_random_seed(seed)
    return methods.build_model(run_config(config), tuple(input_shape), int(num_classes), seed)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


# -- encoding --------------------------------------------------------------------------
def _encode_method_layer(trained, initial, key: str, out: dict[str, np.ndarray]) -> None:
    base = trained.frozen_value()
    if not _same_bits(base, initial.frozen_value()):
        out[f"{key}.base"] = base  # trained (Baseline) or not regenerable: keep it exact
    for name, value in trained.compact_encode().items():
        out[f"{key}.{name}"] = value


def _encode_plain_weights(trained, initial, key: str, out: dict[str, np.ndarray]) -> None:
    for j, (value, start) in enumerate(zip(trained.get_weights(), initial.get_weights())):
        value, start = np.asarray(value), np.asarray(start)
        if _same_bits(value, start):
            continue
        perm = row_permutation(start, value)
        if perm is not None:
            out[f"{key}.w{j}.perm"] = perm
        else:
            out[f"{key}.w{j}.value"] = value


def _paired_leaves(trained: keras.Model, initial: keras.Model) -> list[tuple[Any, Any]]:
    a, b = list(leaf_layers(trained)), list(leaf_layers(initial))
    if len(a) != len(b) or any(type(x) is not type(y) for x, y in zip(a, b)):
        raise CompactError("the model rebuilt from config.json differs from model.keras")
    return list(zip(a, b))


def encode_run(
    model: keras.Model, config: dict[str, Any], reference: keras.Model | None = None
) -> dict[str, np.ndarray]:
    """The compact arrays of a trained run; checked against ``reference`` (its plain model)."""
    input_shape = tuple(int(d) for d in model.input_shape[1:])
    num_classes = int(model.output_shape[-1])
    initial = rebuild_initial_model(config, input_shape, num_classes)
    out: dict[str, np.ndarray] = {
        "format_version": np.int32(FORMAT_VERSION),
        "config_json": np.frombuffer(json.dumps(config, sort_keys=True).encode(), np.uint8),
        "input_shape": np.asarray(input_shape, np.int64),
        "num_classes": np.int64(num_classes),
    }
    for i, (trained, start) in enumerate(_paired_leaves(model, initial)):
        if is_method_layer(trained):
            _encode_method_layer(trained, start, f"L{i}", out)
        else:
            _encode_plain_weights(trained, start, f"L{i}", out)
    if reference is not None:
        decoded = apply_compact(initial, out)
        for got, want in zip(decoded.weights, reference.weights):
            if not _same_bits(got.numpy(), want.numpy()):
                raise CompactError(f"compact encoding does not reproduce {want.path}")
    return out


# -- decoding --------------------------------------------------------------------------
def _layer_arrays(arrays: dict[str, np.ndarray], key: str) -> dict[str, np.ndarray]:
    prefix = f"{key}."
    return {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}


def _decode_kernel(layer, arrays: dict[str, np.ndarray], key: str) -> np.ndarray:
    own = _layer_arrays(arrays, key)
    base = own.pop("base", None)
    base = layer.frozen_value() if base is None else base
    try:
        return layer.compact_decode(base, own)
    except (KeyError, BitsError) as err:
        raise CompactError(f"layer {layer.name}: compact arrays do not fit ({err})") from None


def _decode_weight(start: np.ndarray, arrays: dict[str, np.ndarray], key: str) -> np.ndarray:
    if f"{key}.value" in arrays:
        return arrays[f"{key}.value"]
    if f"{key}.perm" in arrays:
        return apply_permutation_map(start, arrays[f"{key}.perm"])
    return start


def apply_compact(initial: keras.Model, arrays: dict[str, np.ndarray]) -> keras.Model:
    """The plain model of the run, from its rebuilt initial model and the compact arrays."""
    plain, pairs = clone_structure(initial)
    targets = {id(source): target for source, target in pairs}
    for i, layer in enumerate(leaf_layers(initial)):
        target = targets.get(id(layer))
        if target is None:
            continue
        key = f"L{i}"
        if is_method_layer(layer):
            target.kernel.assign(_decode_kernel(layer, arrays, key))
        elif layer.weights:
            starts = [np.asarray(w) for w in layer.get_weights()]
            target.set_weights([_decode_weight(s, arrays, f"{key}.w{j}")
                                for j, s in enumerate(starts)])
    return plain


def save_compact(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Write the arrays as a compressed .npz (atomically); returns the path."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, target)
    return target


def compact_path(run_dir_or_compact_path: str | os.PathLike) -> Path:
    """The compact file itself, or the one in a folder / in a run's export folder."""
    path = Path(run_dir_or_compact_path).expanduser()
    if path.is_dir():
        for candidate in (path / COMPACT_NAME, path / "export" / COMPACT_NAME):
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"no {COMPACT_NAME} in {path} or {path / 'export'}")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    return path


def load_compact(run_dir_or_compact_path: str | os.PathLike) -> keras.Model:
    """Rebuild the plain Keras model of a run from its compact export."""
    with np.load(compact_path(run_dir_or_compact_path), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    version = int(arrays.get("format_version", -1))
    if version != FORMAT_VERSION:
        raise CompactError(f"unsupported compact format version {version}")
    config = json.loads(arrays["config_json"].tobytes().decode("utf-8"))
    initial = rebuild_initial_model(config, arrays["input_shape"].tolist(),
                                    int(arrays["num_classes"]))
    return apply_compact(initial, arrays)
