"""The compact export: what a run learned, as bits, over weights regenerated from its config.

Every method here leaves the random weights of a run reproducible from its
config and resolved seed (:func:`rebuild_initial_model` rebuilds the
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

Format version 2 adds ``payload_sha256``: the SHA-256 of every other array (name,
dtype, shape and bytes, in name order). :func:`load_compact` verifies it, and checks
every array's length and shape against the layer it belongs to, so a truncated or
edited file is a :class:`CompactError` (one line), never a different model. Files of
version 1 have no checksum: they still load, with a warning that they are unverified.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np

from laperm.layout import apply_permutation_map, permutation_map, to_rows
from masktrainer import methods, safe_io
from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError, RunStateError
from masktrainer.export import COMPACT_NAME
from masktrainer.export.plain import clone_structure, is_method_layer, leaf_layers
from masktrainer.layout import CONFIG_FILE, EXPORT_FOLDER, MODEL_FILE
from masktrainer.methods.upgrade import config_values
from masktrainer.nn.bits import BitsError
from masktrainer.npz import load_npz

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: the same arrays without payload_sha256
CHECKSUM_KEY = "payload_sha256"
HEADER_KEYS = ("format_version", "config_json", "input_shape", "num_classes")


class CompactError(ValueError):
    """A compact file cannot be written or read faithfully."""


def payload_digest(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """SHA-256 (32 uint8) over every array but the checksum itself: name, dtype, shape, bytes."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        if key == CHECKSUM_KEY:
            continue
        value = np.ascontiguousarray(arrays[key])
        header = json.dumps([key, value.dtype.str, list(value.shape)]).encode()
        digest.update(len(header).to_bytes(8, "little") + header)
        digest.update(value.tobytes())
    return np.frombuffer(digest.digest(), np.uint8).copy()


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
    """RunConfig from a run's config (its bookkeeping keys dropped)."""
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
        raise CompactError(f"the model rebuilt from {CONFIG_FILE} differs from {MODEL_FILE}")
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
    out[CHECKSUM_KEY] = payload_digest(out)
    return out


# -- decoding --------------------------------------------------------------------------
def _layer_arrays(arrays: dict[str, np.ndarray], key: str) -> dict[str, np.ndarray]:
    prefix = f"{key}."
    return {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}


def _check_like(value: np.ndarray, like: np.ndarray, what: str) -> np.ndarray:
    if value.shape != like.shape or value.dtype != like.dtype:
        raise CompactError(f"{what} is {value.dtype} {value.shape}, the model needs "
                           f"{like.dtype} {like.shape}")
    return value


def _decode_kernel(layer, arrays: dict[str, np.ndarray], key: str,
                   like: np.ndarray) -> np.ndarray:
    """The effective kernel of a method layer; ``like`` is the plain layer's kernel."""
    own = _layer_arrays(arrays, key)
    frozen = np.asarray(layer.frozen_value())
    base = own.pop("base", None)
    base = frozen if base is None else _check_like(base, frozen, f"{key}.base")
    try:
        kernel = np.asarray(layer.compact_decode(base, own))
    except (KeyError, BitsError, ValueError, TypeError, IndexError) as err:
        raise CompactError(f"layer {layer.name}: compact arrays do not fit ({err})") from None
    return _check_like(kernel.astype(like.dtype), like, f"layer {layer.name}'s decoded kernel")


def _checked_permutation(start: np.ndarray, perm: np.ndarray, key: str) -> np.ndarray:
    rows = to_rows(start)
    if perm.dtype.kind not in "iu" or perm.shape != rows.shape:
        raise CompactError(f"{key}.perm is {perm.dtype} {perm.shape}, the model needs integer "
                           f"rows of shape {rows.shape}")
    if not np.array_equal(np.sort(perm, axis=-1), np.broadcast_to(np.arange(rows.shape[-1]),
                                                                    rows.shape)):
        raise CompactError(f"{key}.perm is not a permutation of every row")
    return apply_permutation_map(start, perm)


def _decode_weight(start: np.ndarray, arrays: dict[str, np.ndarray], key: str) -> np.ndarray:
    if f"{key}.value" in arrays:
        return _check_like(arrays[f"{key}.value"], start, f"{key}.value")
    if f"{key}.perm" in arrays:
        return _checked_permutation(start, arrays[f"{key}.perm"], key)
    return start


def apply_compact(initial: keras.Model, arrays: dict[str, np.ndarray]) -> keras.Model:
    """The plain model of the run, from its rebuilt initial model and the compact arrays."""
    plain, pairs = clone_structure(initial)
    targets = {id(source): target for source, target in pairs}
    used = set()
    for i, layer in enumerate(leaf_layers(initial)):
        key = f"L{i}"
        used.add(key)
        target = targets.get(id(layer))
        if target is None:
            continue
        if is_method_layer(layer):
            target.kernel.assign(_decode_kernel(layer, arrays, key, np.asarray(target.kernel)))
        elif layer.weights:
            starts = [np.asarray(w) for w in layer.get_weights()]
            target.set_weights([_decode_weight(s, arrays, f"{key}.w{j}")
                                for j, s in enumerate(starts)])
    stray = sorted(k for k in arrays if k not in (*HEADER_KEYS, CHECKSUM_KEY)
                   and k.split(".")[0] not in used)
    if stray:
        raise CompactError(f"arrays {', '.join(stray[:3])} belong to no layer of the model")
    return plain


def save_compact(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Write the arrays as a compressed .npz (atomically, never through a link)."""
    return safe_io.atomic_write(path, lambda handle: np.savez_compressed(handle, **arrays))


def compact_path(run_dir_or_compact_path: str | os.PathLike) -> Path:
    """The compact file itself, or the one in a folder / in a run's export folder."""
    path = Path(run_dir_or_compact_path).expanduser()
    if path.is_dir():
        for candidate in (path / COMPACT_NAME, path / EXPORT_FOLDER / COMPACT_NAME):
            if os.path.lexists(candidate):  # read_compact says if it is not a regular file
                return candidate
        raise FileNotFoundError(f"no {COMPACT_NAME} in {path} or {path / 'export'}")
    if not os.path.lexists(path):
        raise FileNotFoundError(f"{path} does not exist")
    return path


def read_compact(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a compact file, its header and checksum checked (CompactError)."""
    try:
        safe_io.check_regular(path)
        arrays = load_npz(path)
    except (RunStateError, OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise CompactError(f"{path} is not a readable compact file ({err})") from None
    missing = [key for key in HEADER_KEYS if key not in arrays]
    if missing:
        raise CompactError(f"{path} lacks {', '.join(missing)}: not a compact export")
    version = arrays["format_version"]
    if version.shape != () or version.dtype.kind not in "iu" \
            or int(version) not in READABLE_VERSIONS:
        raise CompactError(f"{path}: unsupported compact format version {version.tolist()!r}")
    if int(version) == 1:
        warnings.warn(f"{path} is compact format version 1, which has no payload checksum: "
                      "its contents are not verified", stacklevel=3)
    elif CHECKSUM_KEY not in arrays:
        raise CompactError(f"{path} has no {CHECKSUM_KEY} (format version 2 needs it)")
    elif not np.array_equal(arrays[CHECKSUM_KEY], payload_digest(arrays)):
        raise CompactError(f"{path} is corrupt: its payload does not match its checksum")
    return arrays


def _header(path: Path, arrays: dict[str, np.ndarray]) -> tuple[dict[str, Any], list, int]:
    try:
        config = json.loads(np.asarray(arrays["config_json"], np.uint8).tobytes().decode("utf-8"))
        shape = [int(d) for d in np.asarray(arrays["input_shape"]).reshape(-1)]
        classes = int(arrays["num_classes"])
    except (UnicodeDecodeError, ValueError, TypeError) as err:
        raise CompactError(f"{path}: unreadable header ({type(err).__name__}: {err})") from None
    seed = config.get("resolved_seed") if isinstance(config, dict) else None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CompactError(f"{path}: the embedded config has no valid resolved_seed")
    return config, shape, classes


def load_compact(run_dir_or_compact_path: str | os.PathLike) -> keras.Model:
    """Rebuild the plain Keras model of a run from its compact export (CompactError, one
    line, if the file is not a faithful compact export)."""
    path = compact_path(run_dir_or_compact_path)
    arrays = read_compact(path)
    config, input_shape, num_classes = _header(path, arrays)
    try:
        initial = rebuild_initial_model(config, input_shape, num_classes)
    except (ConfigError, ValueError, TypeError, KeyError) as err:
        raise CompactError(f"{path}: the embedded config does not build a model "
                           f"({type(err).__name__}: {err})") from None
    return apply_compact(initial, arrays)
