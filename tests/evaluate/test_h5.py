"""Reading Keras 2 .h5 weight files (both layouts) and matching them to a model's layers."""

import numpy as np
import pytest

from masktrainer.evaluate.h5 import (
    WEIGHTS_ONLY,
    WHOLE_MODEL,
    CheckpointError,
    ModelLayer,
    match_layers,
    read_weight_file,
)

F1_MODEL = [ModelLayer("dense", (("kernel", (784, 10)),))]


@pytest.mark.parametrize("whole_model", [False, True])
def test_both_layouts_read_the_same_arrays(keras2, tmp_path, whole_model):
    kernel = keras2.agnostic_kernel(1)
    path = keras2.write(tmp_path / "f1.h5", keras2.f1_layers(kernel), whole_model=whole_model)
    found = read_weight_file(path)
    assert found.layout == (WHOLE_MODEL if whole_model else WEIGHTS_ONLY)
    assert found.keras_version == "2.3.0-tf"
    assert [layer.name for layer in found.layers] == ["dense_10"]  # flatten has no weights
    (name, values), (bias_name, bias) = found.layers[0].weights
    assert (name, bias_name) == ("dense_10/kernel:0", "dense_10/bias:0")
    np.testing.assert_array_equal(values, kernel)
    assert bias.shape == (10,) and not bias.any()


def test_a_zero_bias_the_model_lacks_is_dropped(keras2, tmp_path):
    kernel = keras2.agnostic_kernel(2)
    found = read_weight_file(keras2.write(tmp_path / "f1.h5", keras2.f1_layers(kernel)))
    matched = match_layers("f1.h5", found.layers, F1_MODEL)
    assert matched.dropped == ["dense_10/bias:0"]
    assert len(matched.arrays) == 1 and len(matched.arrays[0]) == 1
    np.testing.assert_array_equal(matched.arrays[0][0], kernel)


def test_a_bias_the_model_has_is_kept_even_when_zero(keras2, tmp_path):
    kernel = keras2.agnostic_kernel(3)
    found = read_weight_file(keras2.write(tmp_path / "f1.h5", keras2.f1_layers(kernel)))
    model = [ModelLayer("dense", (("kernel", (784, 10)), ("bias", (10,))))]
    matched = match_layers("f1.h5", found.layers, model)
    assert matched.dropped == [] and [a.shape for a in matched.arrays[0]] == [(784, 10), (10,)]


def test_a_non_zero_bias_is_refused(keras2, tmp_path):
    bias = np.zeros(10, np.float32)
    bias[3] = 0.25
    found = read_weight_file(keras2.write(
        tmp_path / "f1.h5", keras2.f1_layers(keras2.agnostic_kernel(4), bias)))
    with pytest.raises(CheckpointError, match=r"dense_10/bias:0 is not zero \(max \|b\| 0.25\)"):
        match_layers("f1.h5", found.layers, F1_MODEL)


def test_wrong_shapes_and_layer_counts_are_refused(keras2, tmp_path):
    wide = keras2.write(tmp_path / "wide.h5", keras2.f1_layers(keras2.agnostic_kernel(5, (784, 12))))
    with pytest.raises(CheckpointError, match=r"layer 1 \(dense_10\) holds shapes \[\(784, 12\)\]"):
        match_layers("wide.h5", read_weight_file(wide).layers, F1_MODEL)
    two = [ModelLayer("dense", (("kernel", (784, 10)),)), ModelLayer("dense_1", (("kernel", (10, 10)),))]
    narrow = read_weight_file(tmp_path / "wide.h5")
    with pytest.raises(CheckpointError, match="holds 1 layers with weights; the model has 2"):
        match_layers("wide.h5", narrow.layers, two)


def test_layers_are_matched_in_order_not_by_name(keras2, tmp_path):
    first, second = np.ones((4, 3), np.float32), np.full((3, 2), 2.0, np.float32)
    path = keras2.write(tmp_path / "two.h5", [("zzz", [("zzz/kernel:0", first)]),
                                             ("aaa", [("aaa/kernel:0", second)])])
    model = [ModelLayer("dense", (("kernel", (4, 3)),)), ModelLayer("dense_1", (("kernel", (3, 2)),))]
    matched = match_layers("two.h5", read_weight_file(path).layers, model)
    np.testing.assert_array_equal(matched.arrays[0][0], first)
    np.testing.assert_array_equal(matched.arrays[1][0], second)


def test_files_that_are_not_keras2_weights_are_one_line_errors(keras2, tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("not an HDF5 file\n")
    with pytest.raises(CheckpointError, match="is not an HDF5 file"):
        read_weight_file(text)
    with pytest.raises(CheckpointError, match="does not exist"):
        read_weight_file(tmp_path / "missing.h5")
    good = keras2.write(tmp_path / "good.h5", keras2.f1_layers(keras2.agnostic_kernel(6)))
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cannot be read") as err:
        read_weight_file(cut)
    assert "\n" not in str(err.value)
    import h5py

    with h5py.File(tmp_path / "plain.h5", "w") as handle:
        handle.create_dataset("x", data=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a Keras 2 weight file"):
        read_weight_file(tmp_path / "plain.h5")


def test_a_listed_layer_or_weight_that_is_missing_is_refused(keras2, tmp_path):
    import h5py

    path = keras2.write(tmp_path / "f1.h5", keras2.f1_layers(keras2.agnostic_kernel(7)))
    with h5py.File(path, "a") as handle:
        del handle["dense_10"]["dense_10/bias:0"]
    with pytest.raises(CheckpointError, match="dense_10/bias:0 is missing"):
        read_weight_file(path)
    with h5py.File(path, "a") as handle:
        del handle["dense_10"]
    with pytest.raises(CheckpointError, match="layer 'dense_10' is listed but missing"):
        read_weight_file(path)
