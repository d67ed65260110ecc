"""The compact export (masktrainer.export.compact): only what training chose, over weights
regenerated from the config; exact round trips, and one-line errors for files that are not."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from laperm.layout import apply_permutation_map
from masktrainer.config import RunConfig
from masktrainer.export import COMPACT_NAME
from masktrainer.export import compact as C
from masktrainer.export.plain import leaf_layers, to_plain_model
from masktrainer.layout import EXPORT_FOLDER


def _config(**values) -> dict:
    seed = values.pop("seed", 3)
    return {**RunConfig(seed=seed, **values).to_dict(), "resolved_seed": seed}


def _same(a, b) -> None:
    for got, want in zip(a.weights, b.weights):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.fixture()
def laperm_f1():
    """A LaPerm F1 run whose one kernel was permuted per column (what a LaPerm run learns)."""
    config = _config(traintype="LaPerm", nettype="F1")
    model = C.rebuild_initial_model(config, (28, 28, 1), 10)
    kernel = model.trainable_variables[0]
    kernel.assign(np.sort(kernel.numpy(), axis=0))
    return model, config


@pytest.fixture()
def compact_file(laperm_f1, tmp_path):
    model, config = laperm_f1
    return C.save_compact(tmp_path / COMPACT_NAME, C.encode_run(model, config)), model


def test_payload_digest_covers_names_dtypes_shapes_and_bytes():
    arrays = {"a": np.arange(4, dtype=np.int32), "b": np.zeros((2, 2), np.float32)}
    digest = C.payload_digest(arrays)
    assert digest.dtype == np.uint8 and digest.shape == (32,)
    assert np.array_equal(C.payload_digest({**arrays, C.CHECKSUM_KEY: digest}), digest)
    for changed in ({**arrays, "a": np.arange(4, dtype=np.int64)},
                    {**arrays, "b": np.zeros((4,), np.float32)},
                    {**arrays, "b": np.ones((2, 2), np.float32)},
                    {"c": arrays["a"], "b": arrays["b"]}):
        assert not np.array_equal(C.payload_digest(changed), digest)


def test_row_permutation_finds_the_per_row_order_or_none():
    # A Dense kernel's rows are its columns (one output unit's incoming weights).
    initial = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    final = np.array([[4.0, 2.0, 6.0], [1.0, 5.0, 3.0]], np.float32)
    perm = C.row_permutation(initial, final)
    assert perm is not None and perm.dtype == np.int16
    np.testing.assert_array_equal(apply_permutation_map(initial, perm), final)
    assert perm.tolist() == [[1, 0], [0, 1], [1, 0]]
    assert C.row_permutation(initial, initial[::-1, ::-1].copy()) is None  # across rows
    assert C.row_permutation(initial, final + 0.5) is None  # not the initial values
    assert C.row_permutation(initial.astype(np.float64), final.astype(np.float64)) is None
    assert C.row_permutation(initial, final[:, :2]) is None


def test_the_initial_model_is_rebuilt_bit_for_bit_from_the_config():
    config = _config(traintype="LaPerm", nettype="F1")
    first = C.rebuild_initial_model(config, (28, 28, 1), 10)
    _same(C.rebuild_initial_model(config, [28, 28, 1], 10), first)
    other = C.rebuild_initial_model({**config, "resolved_seed": 4}, (28, 28, 1), 10)
    assert not np.array_equal(other.weights[0].numpy(), first.weights[0].numpy())
    assert C.run_config({**config, "run_id": "abc", "method": "train_by_reconnect"}).nettype == "F1"


def test_a_permuted_kernel_is_stored_as_its_permutation(laperm_f1):
    model, config = laperm_f1
    arrays = C.encode_run(model, config, reference=to_plain_model(model))
    assert sorted(arrays) == sorted([*C.HEADER_KEYS, C.CHECKSUM_KEY, "L2.w0.perm"])
    assert arrays["L2.w0.perm"].shape == (10, 784) and int(arrays["format_version"]) == 2
    assert json.loads(arrays["config_json"].tobytes()) == config
    assert arrays["input_shape"].tolist() == [28, 28, 1] and int(arrays["num_classes"]) == 10
    _same(C.apply_compact(C.rebuild_initial_model(config, (28, 28, 1), 10), arrays), model)


def test_other_values_are_stored_as_they_are(laperm_f1):
    model, config = laperm_f1
    model.trainable_variables[0].assign(np.full((784, 10), 0.25, np.float32))
    arrays = C.encode_run(model, config)
    assert arrays["L2.w0.value"].shape == (784, 10)
    _same(C.apply_compact(C.rebuild_initial_model(config, (28, 28, 1), 10), arrays), model)


def test_a_masked_run_stores_its_keep_bits_and_decodes_to_the_plain_model():
    config = _config(traintype="FreePruning", nettype="LeNet")
    model = C.rebuild_initial_model(config, (28, 28, 1), 10)
    rng = np.random.RandomState(0)
    for variable in model.trainable_variables:  # the scores: what training chose
        variable.assign(rng.randn(*variable.shape).astype(np.float32))
    plain = to_plain_model(model)
    arrays = C.encode_run(model, config, reference=plain)
    own = sorted(key for key in arrays if key.startswith("L"))
    assert own == ["L2.keep", "L3.keep", "L4.keep"]
    assert arrays["L2.keep"].nbytes == 784 * 300 // 8  # one bit per weight
    _same(C.apply_compact(C.rebuild_initial_model(config, (28, 28, 1), 10), arrays), plain)


def test_a_model_the_config_does_not_build_is_refused(laperm_f1):
    model, _ = laperm_f1
    with pytest.raises(C.CompactError, match="the model rebuilt from .* differs from"):
        C.encode_run(model, _config(traintype="FreePruning", nettype="LeNet"))


def test_broken_layer_arrays_are_one_line_errors(laperm_f1):
    model, config = laperm_f1
    arrays = C.encode_run(model, config)
    initial = C.rebuild_initial_model(config, (28, 28, 1), 10)
    with pytest.raises(C.CompactError, match="^arrays L9.x belong to no layer of the model$"):
        C.apply_compact(initial, {**arrays, "L9.x": np.zeros(1)})
    twice = arrays["L2.w0.perm"].copy()
    twice[0, 1] = twice[0, 0]
    with pytest.raises(C.CompactError, match="^L2.w0.perm is not a permutation of every row$"):
        C.apply_compact(initial, {**arrays, "L2.w0.perm": twice})
    with pytest.raises(C.CompactError, match=r"^L2.w0.perm is float32 \(10, 784\), the model "
                                             r"needs integer rows of shape \(10, 784\)$"):
        C.apply_compact(initial, {**arrays, "L2.w0.perm": twice.astype(np.float32)})
    del arrays["L2.w0.perm"]
    with pytest.raises(C.CompactError, match=r"^L2.w0.value is float64 \(3,\), the model needs "
                                             r"float32 \(784, 10\)$"):
        C.apply_compact(initial, {**arrays, "L2.w0.value": np.zeros(3)})


def test_a_saved_file_loads_as_the_same_model_from_the_file_or_the_run(compact_file, tmp_path):
    path, model = compact_file
    assert C.compact_path(path) == path and C.compact_path(tmp_path) == path
    _same(C.load_compact(path), model)
    run = tmp_path / "run"
    (run / EXPORT_FOLDER).mkdir(parents=True)
    path.rename(run / EXPORT_FOLDER / COMPACT_NAME)
    assert C.compact_path(run) == run / EXPORT_FOLDER / COMPACT_NAME
    _same(C.load_compact(run), model)
    assert [type(layer).__name__ for layer in leaf_layers(C.load_compact(run))][-1] == "Dense"


def test_missing_files_are_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"^no {COMPACT_NAME} in {tmp_path} or "):
        C.compact_path(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist$"):
        C.compact_path(tmp_path / "x.npz")


def _rewrite(path, arrays, checksum: bool = True):
    arrays = {key: value for key, value in arrays.items() if key != C.CHECKSUM_KEY}
    if checksum:
        arrays[C.CHECKSUM_KEY] = C.payload_digest(arrays)
    np.savez(path, **arrays)


def test_edited_or_foreign_files_are_refused_in_one_line(compact_file, tmp_path):
    path, _ = compact_file
    arrays = C.read_compact(path)
    edited = dict(arrays)
    edited["L2.w0.perm"] = arrays["L2.w0.perm"][:, ::-1].copy()
    np.savez(tmp_path / "edited.npz", **edited)  # the old checksum
    cases = {
        "edited.npz": "is corrupt: its payload does not match its checksum",
        "text.npz": "is not a readable compact file",
    }
    (tmp_path / "text.npz").write_text("not a zip")
    _rewrite(tmp_path / "nochecksum.npz", arrays, checksum=False)
    cases["nochecksum.npz"] = f"has no {C.CHECKSUM_KEY} \\(format version 2 needs it\\)"
    _rewrite(tmp_path / "v9.npz", {**arrays, "format_version": np.int32(9)})
    cases["v9.npz"] = "unsupported compact format version 9"
    _rewrite(tmp_path / "headless.npz", {"L2.w0.perm": arrays["L2.w0.perm"]})
    cases["headless.npz"] = "lacks format_version, config_json, input_shape, num_classes"
    config = json.loads(arrays["config_json"].tobytes())
    del config["resolved_seed"]
    seedless = np.frombuffer(json.dumps(config).encode(), np.uint8)
    _rewrite(tmp_path / "seedless.npz", {**arrays, "config_json": seedless})
    cases["seedless.npz"] = "the embedded config has no valid resolved_seed"
    config = {**json.loads(arrays["config_json"].tobytes()), "nettype": "NoSuchNet"}
    _rewrite(tmp_path / "unbuildable.npz",
             {**arrays, "config_json": np.frombuffer(json.dumps(config).encode(), np.uint8)})
    cases["unbuildable.npz"] = "the embedded config does not build a model"
    for name, message in cases.items():
        with pytest.raises(C.CompactError, match=message) as error:
            C.load_compact(tmp_path / name)
        assert "\n" not in str(error.value), name


def test_version_1_files_load_with_a_warning(compact_file, tmp_path):
    path, model = compact_file
    arrays = C.read_compact(path)
    _rewrite(tmp_path / "v1.npz", {**arrays, "format_version": np.int32(1)}, checksum=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _same(C.load_compact(tmp_path / "v1.npz"), model)
    assert any("has no payload checksum" in str(warning.message) for warning in caught)
