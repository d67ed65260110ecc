"""LaPerm notebook models, augmentation, initial-weight transforms and profiles."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from laperm.augment import augmentation
from laperm.models import (
    MODEL_NAMES,
    build_laperm_model,
    default_input_shape,
    resnet_v1,
)
from laperm.profiles import (
    changed_positions,
    is_row_permutation,
    permutation_map,
    plot_profiles,
    weight_profiles,
)
from laperm.rows import from_rows, to_rows
from laperm.weights import agnosticize, random_prune

PARAMETER_COUNTS = {
    "F1": 7_840,
    "F2": 109_184,
    "Conv7": 325_578,
    "Conv2": 4_304_202,
    "Conv4": 2_429_514,
    "Conv13": 15_001_418,
    "ResNet50": 763_882,
}


def _weights_equal(a: keras.Model, b: keras.Model) -> list[bool]:
    return [np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights())]


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_parameter_counts_and_output_shape(name):
    model = build_laperm_model(name, default_input_shape(name), seed=0)
    assert model.count_params() == PARAMETER_COUNTS[name]
    assert model.output.shape == (None, 10)


def test_default_input_shapes_and_unknown_name():
    assert default_input_shape("Conv7") == (28, 28, 1)
    assert default_input_shape("ResNet50") == (32, 32, 3)
    with pytest.raises(ValueError, match="Conv13"):
        build_laperm_model("VGG", (32, 32, 3))


def test_resnet_v1_depth():
    assert resnet_v1((32, 32, 3), 50).count_params() == PARAMETER_COUNTS["ResNet50"]
    assert resnet_v1((32, 32, 3), 20, num_classes=5).output.shape == (None, 5)
    with pytest.raises(ValueError):
        resnet_v1((32, 32, 3), 21)


@pytest.mark.parametrize("name", ["F2", "Conv7", "Conv4", "ResNet50"])
def test_seed_determines_every_weight(name):
    shape = default_input_shape(name)
    first = build_laperm_model(name, shape, seed=3)
    assert all(_weights_equal(first, build_laperm_model(name, shape, seed=3)))
    other = build_laperm_model(name, shape, seed=4)
    for variable, same in zip(first.weights, _weights_equal(first, other)):
        randomly_initialised = np.std(variable.numpy()) > 0
        assert same != randomly_initialised, variable.path  # random ones differ, constants match


def test_layers_get_distinct_seeds_and_unseeded_builds_differ():
    model = build_laperm_model("ResNet50", (32, 32, 3), seed=1)
    kernels = [v.numpy() for v in model.trainable_variables if v.shape == (3, 3, 16, 16)]
    assert len(kernels) == 16  # stack 0: 8 blocks x 2 convs
    assert all(not np.array_equal(kernels[0], k) for k in kernels[1:])
    a, b = (build_laperm_model("Conv7", (28, 28, 1)) for _ in range(2))
    assert not any(_weights_equal(a, b))


# --------------------------------------------------------------------------- augmentation


def test_no_augmentation_for_dense_models():
    assert augmentation("F1") is None and augmentation("F2") is None
    with pytest.raises(ValueError):
        augmentation("nope")


@pytest.mark.parametrize("name", ["Conv7", "Conv4", "ResNet50"])
def test_augmentation_is_identity_at_inference_only(name):
    shape = default_input_shape(name)
    x = np.random.RandomState(0).uniform(size=(4, *shape)).astype("float32")
    augment = augmentation(name, seed=5)
    np.testing.assert_array_equal(augment(x, training=False), x)
    trained = augment(x, training=True).numpy()
    assert trained.shape == x.shape and not np.allclose(trained, x)
    repeated = augmentation(name, seed=5)(x, training=True).numpy()
    np.testing.assert_allclose(repeated, trained)


def test_augmentation_in_front_of_a_model():
    model = build_laperm_model("Conv7", (28, 28, 1), seed=0)
    wrapped = keras.Sequential([keras.Input((28, 28, 1)), augmentation("Conv7", seed=0), model])
    x = np.random.RandomState(1).uniform(size=(8, 28, 28, 1)).astype("float32")
    y = np.arange(8) % 10
    np.testing.assert_allclose(wrapped.predict(x, verbose=0), model.predict(x, verbose=0))
    wrapped.compile("adam", "sparse_categorical_crossentropy")
    assert np.isfinite(wrapped.train_on_batch(x, y))


# --------------------------------------------------------------------------- weights


def _wide_model(seed: int = 0) -> keras.Model:
    init = keras.initializers.RandomUniform(0.5, 1.0, seed=seed)
    inputs = keras.Input((100,))
    x = keras.layers.Dense(1000, kernel_initializer=init, bias_initializer=init)(inputs)
    x = keras.layers.Dense(500, kernel_initializer=init, bias_initializer="ones")(x)
    return keras.Model(inputs, x)


def _kept(variable) -> float:
    return float(np.mean(variable.numpy() != 0))


def test_random_prune_kept_fractions():
    model = _wide_model()
    stats = random_prune(model, keep_ratio=0.3, seed=0)
    kernel0, bias0, kernel1, bias1 = model.trainable_variables
    assert abs(_kept(kernel0) - 0.8) < 0.01  # the input layer keeps input_keep_ratio
    assert abs(_kept(kernel1) - 0.3) < 0.01
    assert _kept(bias0) == 1.0 and _kept(bias1) == 1.0
    assert stats[bias0.path]["skipped"] and not stats[kernel1.path]["skipped"]
    assert stats[kernel1.path]["nonzero"] == np.count_nonzero(kernel1.numpy())
    assert stats[kernel1.path]["total"] == 500_000
    assert 0.3 < stats["kept_fraction"] < 0.8


def test_random_prune_options_and_validation():
    model = _wide_model()
    random_prune(model, keep_ratio=0.9, skip_1d=False, seed=1)
    assert abs(_kept(model.trainable_variables[0]) - 0.9) < 0.01  # max(keep, input keep)
    assert abs(_kept(model.trainable_variables[1]) - 0.9) < 0.05  # biases pruned too
    a, b = _wide_model(), _wide_model()
    random_prune(a, 0.5, seed=7)
    random_prune(b, 0.5, seed=7)
    assert all(_weights_equal(a, b))
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError):
            random_prune(a, bad)


def test_agnosticize_single_fraction():
    model = _wide_model()
    stats = agnosticize(model, 0.03, 0.25, seed=0)
    for variable in model.trainable_variables:
        values = variable.numpy()
        assert set(np.unique(values)) <= {np.float32(0.0), np.float32(0.03)}
        assert stats[variable.path]["nonzero"] == np.count_nonzero(values)
        assert stats[variable.path]["total"] == values.size
    assert abs(_kept(model.trainable_variables[2]) - 0.25) < 0.01
    assert abs(stats["kept_fraction"] - 0.25) < 0.01


def test_agnosticize_per_variable_rules_and_tuple_draw():
    model = _wide_model()
    agnosticize(model, 0.08, [(1, 4), 0.5, (4, 7), 1.0], seed=11)
    kernel0, _, kernel1, bias1 = model.trainable_variables
    expected = np.random.RandomState(11).randint(1, 5, size=(100, 1000)) <= 1
    np.testing.assert_array_equal(kernel0.numpy() != 0, expected)
    assert abs(_kept(kernel1) - 4 / 7) < 0.01
    assert _kept(bias1) == 1.0
    single = _wide_model()
    agnosticize(single, 0.08, (4, 7), seed=2)  # one (keep, total) rule for all
    assert abs(_kept(single.trainable_variables[2]) - 4 / 7) < 0.01


def test_agnosticize_rejects_bad_rules_without_touching_weights():
    model = _wide_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="4 trainable variables"):
        agnosticize(model, 0.1, [0.5, 0.5, 0.5])
    with pytest.raises(ValueError):
        agnosticize(model, 0.1, [0.5, 0.5, 0.5, (5, 4)])
    with pytest.raises(ValueError):
        agnosticize(model, 0.1, 0.0)
    assert all(np.array_equal(x, y) for x, y in zip(before, model.get_weights()))


# --------------------------------------------------------------------------- profiles


def test_weight_profiles_shapes_and_sortedness():
    model = build_laperm_model("Conv7", (28, 28, 1), seed=0)
    profiles = weight_profiles(model)
    assert len(profiles) == 8
    first = model.trainable_variables[0]
    assert profiles[first.path].shape == (32, 9)
    assert profiles[model.trainable_variables[-2].path].shape == (10, 128)
    assert all(np.all(np.diff(p, axis=-1) >= 0) for p in profiles.values())
    with_biases = weight_profiles(model, skip_1d=False)
    assert len(with_biases) == 16
    assert with_biases[model.trainable_variables[1].path].shape == (1, 32)
    from_dict = weight_profiles({"k": np.array([[3.0, 1.0], [2.0, 0.0]])})
    np.testing.assert_array_equal(from_dict["k"], [[2.0, 3.0], [0.0, 1.0]])


def _permute_rows(value: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.RandomState(seed)
    rows = to_rows(tf.constant(value)).numpy()
    shuffled = np.stack([rng.permutation(row) for row in rows])
    return from_rows(tf.constant(shuffled), value.shape).numpy()


@pytest.mark.parametrize(
    "initial",
    [
        np.random.RandomState(0).normal(size=(3, 3, 4, 5)),
        np.random.RandomState(1).randint(0, 3, size=(20, 6)).astype("float64"),  # ties
    ],
)
def test_permutation_map_reconstructs_current(initial):
    current = _permute_rows(initial, seed=2)
    source = permutation_map(initial, current)
    initial_rows = to_rows(tf.constant(initial)).numpy()
    current_rows = to_rows(tf.constant(current)).numpy()
    assert source.shape == current_rows.shape and source.dtype.kind == "i"
    np.testing.assert_array_equal(np.take_along_axis(initial_rows, source, -1), current_rows)
    assert all(sorted(row) == list(range(row.size)) for row in source)
    assert is_row_permutation(initial, current)
    np.testing.assert_array_equal(permutation_map(initial, initial)[0], np.arange(len(source[0])))


def test_permutation_map_rejects_non_permutations():
    initial = np.arange(12.0).reshape(3, 4)
    moved_across_rows = initial[:, ::-1].copy()  # dense layout: a row is a column
    assert not is_row_permutation(initial, moved_across_rows)
    with pytest.raises(ValueError, match="not permutations"):
        permutation_map(initial, moved_across_rows)
    with pytest.raises(ValueError):
        permutation_map(initial, initial.T)
    assert not is_row_permutation(initial, initial.T)


def test_changed_positions():
    before = np.arange(10.0)
    after = before.copy()
    after[[1, 4, 7]] = -1.0
    assert changed_positions(before, after) == 3
    assert changed_positions(before, before) == 0
    with pytest.raises(ValueError):
        changed_positions(before, before[:5])


def test_plot_profiles_saves_png(tmp_path):
    profiles = weight_profiles({"a/kernel": np.random.rand(4, 3), "b/kernel": np.random.rand(6, 2)})
    figure = plot_profiles(profiles, path=str(tmp_path / "profiles.png"))
    assert (tmp_path / "profiles.png").stat().st_size > 0
    assert figure.axes[0].get_xlabel() == "rank within unit"
    assert len(figure.axes[0].lines) == 3  # one line per output unit
