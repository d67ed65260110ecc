"""The compact export: what a run learned, as bits, over weights regenerated from its config.

Every method here leaves the random weights of a run reproducible from its
``config.json`` and resolved seed (:func:`rebuild_initial_model` rebuilds the
model exactly as the trainer did). The compact file therefore stores only what
training chose, as plain numeric arrays (``np.load(..., allow_pickle=False)``):

* self-pruning ``mask`` / ``mask_rs`` and edge-popup: the keep pattern,
  ``np.packbits`` (1 bit per weight); ``mask_rs`` adds its float32 scale;
* ``flip``: the sign pattern as bits (plus a keep pattern only if a score is 0);
* slot machines: the selected slot per connection in ``ceil(log2 K)`` bits;
* LaPerm and other plain layers: per weight tensor nothing (unchanged), a
  per-row permutation of the initial row (int16/int32; LaPerm) or the float
  values (biases, BatchNorm statistics, trained kernels);
* the run's config as UTF-8 bytes, the input shape and the class count.

Keys are ``L<i>.<what>`` with ``i`` the position of the layer in
:func:`masktrainer.export.leaf_layers` order. A frozen tensor that does not
regenerate bit for bit is stored as floats (``L<i>.base``), so the file is
always exact; :func:`encode_run` checks the decoding before it returns.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np

from masktrainer.config import RunConfig
from masktrainer.edgepopup import EdgePopupLayer
from masktrainer.export import clone_structure, is_method_layer, leaf_layers
from masktrainer.layers import MaskedKernelLayer
from masktrainer.slots import SlotLayer

FORMAT_VERSION = 1
COMPACT_NAME = "compact.npz"


class CompactError(ValueError):
    """A compact file cannot be written or read faithfully."""


# -- bits --------------------------------------------------------------------------
def pack_flags(flags: np.ndarray) -> np.ndarray:
    """Booleans -> uint8 bytes, 8 flags per byte (C order)."""
    return np.packbits(np.asarray(flags, bool).reshape(-1))


def unpack_flags(packed: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Inverse of :func:`pack_flags` for an array of ``shape``."""
    count = math.prod(shape)
    return np.unpackbits(packed, count=count).astype(bool).reshape(tuple(shape))


def index_bits(choices: int) -> int:
    """Bits per index for ``choices`` alternatives: ceil(log2 choices), at least 1."""
    return max(1, (int(choices) - 1).bit_length())


def pack_indices(index: np.ndarray, bits: int) -> np.ndarray:
    """Non-negative integers < 2**bits -> ``bits`` bits each (most significant first)."""
    flat = np.asarray(index, np.uint32).reshape(-1)
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint32)
    planes = (flat[:, None] >> shifts) & 1
    return np.packbits(planes.astype(np.uint8).reshape(-1))


def unpack_indices(packed: np.ndarray, shape: Sequence[int], bits: int) -> np.ndarray:
    """Inverse of :func:`pack_indices` (int64 array of ``shape``)."""
    count = math.prod(shape)
    planes = np.unpackbits(packed, count=count * bits).reshape(count, bits).astype(np.int64)
    weights = np.int64(1) << np.arange(bits - 1, -1, -1, dtype=np.int64)
    return (planes @ weights).reshape(tuple(shape))


# -- permutations (LaPerm rows: a Dense column, a conv filter, a whole vector) ---------
def _to_rows(value: np.ndarray) -> np.ndarray:
    if value.ndim == 1:
        return value.reshape(1, -1)
    if value.ndim == 2:
        return value.T
    return np.transpose(value, (3, 0, 1, 2)).reshape(value.shape[-1], -1)


def _from_rows(rows: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    if len(shape) == 1:
        return rows.reshape(tuple(shape))
    if len(shape) == 2:
        return rows.T.copy()
    kh, kw, cin, cout = shape
    return np.transpose(rows.reshape(cout, kh, kw, cin), (1, 2, 3, 0)).copy()


def _order_key(rows: np.ndarray) -> np.ndarray:
    """Integers that sort like the float32 values, -0.0 before +0.0 (bitwise ties only)."""
    bits = rows.astype(np.float32).view(np.int32)
    return bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))


def row_permutation(initial: np.ndarray, final: np.ndarray) -> np.ndarray | None:
    """``perm`` with ``final_row[p] == initial_row[perm[p]]`` per row, or None if none exists."""
    if initial.dtype != np.float32 or initial.ndim not in (1, 2, 4):
        return None
    rows_i, rows_f = _to_rows(initial), _to_rows(final)
    order_i = np.argsort(_order_key(rows_i), axis=-1, kind="stable")
    order_f = np.argsort(_order_key(rows_f), axis=-1, kind="stable")
    perm = np.empty_like(order_i)
    np.put_along_axis(perm, order_f, order_i, axis=-1)
    if not np.array_equal(np.take_along_axis(rows_i, perm, -1).view(np.int32),
                          rows_f.view(np.int32)):
        return None
    return perm.astype(np.int16 if rows_i.shape[-1] <= 2**15 else np.int32)


def apply_row_permutation(initial: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Inverse of :func:`row_permutation`: the final tensor."""
    rows = np.take_along_axis(_to_rows(initial), perm.astype(np.int64), -1)
    return _from_rows(rows, initial.shape)


# -- the run's model, rebuilt --------------------------------------------------------
def run_config(config: dict[str, Any]) -> RunConfig:
    """RunConfig from a run's config.json (its bookkeeping keys dropped)."""
    known = {field.name for field in dataclasses.fields(RunConfig)}
    return RunConfig.from_dict({k: v for k, v in config.items() if k in known})


def rebuild_initial_model(
    config: dict[str, Any], input_shape: Sequence[int], num_classes: int
) -> keras.Model:
    """The run's model before training, as the trainer built it (same resolved seed)."""
    from masktrainer.methods import build_model  # heavy: pulls every method in

    seed = int(config["resolved_seed"])
    keras.utils.set_random_seed(seed)
    return build_model(run_config(config), tuple(input_shape), int(num_classes), seed)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


# -- encoding --------------------------------------------------------------------------
def _encode_method_layer(trained, initial, key: str, out: dict[str, np.ndarray]) -> None:
    base_name = "values" if isinstance(trained, SlotLayer) else "kernel"
    base = getattr(trained, base_name).numpy()
    if not _same_bits(base, getattr(initial, base_name).numpy()):
        out[f"{key}.base"] = base  # trained (Baseline) or not regenerable: keep it exact
    if isinstance(trained, SlotLayer):
        index = trained.selected_slots().numpy()
        out[f"{key}.slot"] = pack_indices(index, index_bits(trained.slots))
        return
    mask = trained.get_mask().numpy()
    keep = mask != 0
    if getattr(trained, "masktype", "mask") == "flip":
        out[f"{key}.sign"] = pack_flags(mask > 0)
        if not keep.all():
            out[f"{key}.keep"] = pack_flags(keep)
        return
    out[f"{key}.keep"] = pack_flags(keep)
    if getattr(trained, "masktype", "mask") == "mask_rs":
        out[f"{key}.scale"] = np.float32(mask[keep][0] if keep.any() else 0.0)


def _encode_plain_weights(trained, initial, key: str, permute: bool,
                          out: dict[str, np.ndarray]) -> None:
    for j, (value, start) in enumerate(zip(trained.get_weights(), initial.get_weights())):
        value, start = np.asarray(value), np.asarray(start)
        if _same_bits(value, start):
            continue
        perm = row_permutation(start, value) if permute and value.shape == start.shape else None
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
    permute = config.get("method") == "laperm"
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
            _encode_plain_weights(trained, start, f"L{i}", permute, out)
    if reference is not None:
        decoded = apply_compact(initial, out)
        for got, want in zip(decoded.weights, reference.weights):
            if not _same_bits(got.numpy(), want.numpy()):
                raise CompactError(f"compact encoding does not reproduce {want.path}")
    return out


# -- decoding --------------------------------------------------------------------------
def _decode_kernel(layer, arrays: dict[str, np.ndarray], key: str) -> np.ndarray:
    base_name = "values" if isinstance(layer, SlotLayer) else "kernel"
    base = arrays.get(f"{key}.base")
    base = getattr(layer, base_name).numpy() if base is None else base
    if isinstance(layer, SlotLayer):
        shape = base.shape[:-1]
        index = unpack_indices(arrays[f"{key}.slot"], shape, index_bits(layer.slots))
        return np.take_along_axis(base, index[..., None], -1)[..., 0]
    shape = base.shape
    keep = arrays.get(f"{key}.keep")
    keep = np.ones(shape, bool) if keep is None else unpack_flags(keep, shape)
    if isinstance(layer, MaskedKernelLayer) and layer.masktype == "flip":
        sign = unpack_flags(arrays[f"{key}.sign"], shape)
        mask = np.where(sign, np.float32(1), np.float32(-1)) * keep.astype(np.float32)
    elif isinstance(layer, MaskedKernelLayer) and layer.masktype == "mask_rs":
        mask = keep.astype(np.float32) * np.float32(arrays[f"{key}.scale"])
    elif isinstance(layer, (MaskedKernelLayer, EdgePopupLayer)):
        mask = keep.astype(np.float32)
    else:
        raise CompactError(f"layer {layer.name}: unknown method layer {type(layer).__name__}")
    return (base * mask).astype(np.float32)


def _decode_weight(start: np.ndarray, arrays: dict[str, np.ndarray], key: str) -> np.ndarray:
    if f"{key}.value" in arrays:
        return arrays[f"{key}.value"]
    if f"{key}.perm" in arrays:
        return apply_row_permutation(start, arrays[f"{key}.perm"])
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
