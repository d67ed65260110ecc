"""LaPerm optimizer wrapper: permutation invariants, skips, schedules, XLA, distribution, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from laperm import LaPerm, PiecewiseSyncPeriod, reconnect, roles_from_model, sorted_rows


def _model(bias: bool = True, bn: bool = True, bn_name: str = "renamed_bn") -> keras.Model:
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", use_bias=bias, name="conv")(inputs)
    if bn:
        x = keras.layers.BatchNormalization(name=bn_name)(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(3, activation="softmax", use_bias=bias, name="dense")(x)
    return keras.Model(inputs, outputs)


def _data(n: int = 40):
    rng = np.random.RandomState(0)
    return rng.randn(n, 6, 6, 1).astype("float32"), np.eye(3, dtype="float32")[np.arange(n) % 3]


def _fit(model, optimizer, steps, jit=False, batch=8):
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", jit_compile=jit)
    x, y = _data(batch * steps)
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    return model


def test_reconnect_places_initial_values_in_current_rank_order():
    initial = tf.constant([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])  # dense (in=2, out=3)
    current = tf.constant([[0.5, -1.0, 7.0], [0.1, 0.2, -3.0]])
    out = reconnect(current, sorted_rows(initial)).numpy()
    # column 0 of current = [0.5, 0.1] -> ranks [1, 0] -> initial column 0 sorted [1, 10]
    np.testing.assert_array_equal(out[:, 0], [10.0, 1.0])
    np.testing.assert_array_equal(out[:, 2], [30.0, 3.0])
    np.testing.assert_array_equal(np.sort(out, axis=0), np.sort(initial.numpy(), axis=0))


def test_sync_of_weights_already_in_rank_order_changes_nothing():
    initial = tf.random.stateless_normal((3, 3, 2, 5), seed=(3, 4))
    np.testing.assert_array_equal(reconnect(initial, sorted_rows(initial)).numpy(),
                                  initial.numpy())
    shifted = initial * 2.0 + 1.0  # monotone: same rank order
    np.testing.assert_array_equal(reconnect(shifted, sorted_rows(initial)).numpy(),
                                  initial.numpy())


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("steps", [3, 7, 9])
def test_rows_stay_bitwise_permutations_after_syncs(jit, steps):
    model = _model()
    initial = {v.path: v.numpy().copy() for v in model.trainable_variables}
    opt = _fit(model, LaPerm(keras.optimizers.Adam(0.05), sync_period=3), steps, jit=jit).optimizer
    assert int(opt.iterations.numpy()) == steps
    assert int(opt.sync_count.numpy()) == steps // 3
    synced = steps % 3 == 0
    assert opt.check_permutations(model.trainable_variables) == synced
    for variable in model.trainable_variables:
        if opt.is_permuted(variable) and synced:
            np.testing.assert_array_equal(
                sorted_rows(tf.convert_to_tensor(variable)).numpy(),
                sorted_rows(tf.constant(initial[variable.path])).numpy())
    assert int(opt.last_sync_changed.numpy()) > 0


def test_skip_bias_and_skip_bn_by_role_not_layer_name():
    model = _model(bn_name="my_norm")  # not called "batch_normalization"
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    opt = _fit(model, LaPerm(keras.optimizers.Adam(0.05), sync_period=2), 4).optimizer
    roles = {v.path: opt.is_permuted(v) for v in model.trainable_variables}
    assert roles == {"conv/kernel": True, "conv/bias": False, "my_norm/gamma": False,
                     "my_norm/beta": False, "dense/kernel": True, "dense/bias": False}
    # skipped variables trained freely: not permutations of their initial values
    bias = model.get_layer("dense").bias.numpy()
    assert not np.array_equal(np.sort(bias), np.sort(before["dense/bias"]))
    assert roles_from_model(model)["my_norm/gamma"] == "bn"


def test_no_skips_permutes_bias_and_bn():
    model = _model()
    opt = _fit(model, LaPerm(keras.optimizers.Adam(0.05), sync_period=2, skip_bias=False,
                             skip_bn=False), 4).optimizer
    assert all(opt.is_permuted(v) for v in model.trainable_variables)
    assert opt.check_permutations(model.trainable_variables)


def test_piecewise_schedule_changes_k():
    schedule = PiecewiseSyncPeriod([4], [2, 3])  # steps 1-3: k=2, from step 4: k=3
    assert [int(schedule(tf.constant(s))) for s in (1, 3, 4, 9)] == [2, 2, 3, 3]
    model = _model(bias=False, bn=False)
    opt = _fit(model, LaPerm(keras.optimizers.Adam(0.05), sync_period=schedule), 9).optimizer
    assert int(opt.sync_count.numpy()) == 3  # steps 2, 6 and 9
    by_epoch = PiecewiseSyncPeriod([1], [5, 7], steps_per_epoch=10)
    assert [int(by_epoch(tf.constant(s))) for s in (10, 11)] == [5, 7]


def test_bad_arguments():
    with pytest.raises(ValueError, match="sync_period"):
        LaPerm(keras.optimizers.Adam(), sync_period=0)
    with pytest.raises(TypeError, match="inner_optimizer"):
        LaPerm(object())
    with pytest.raises(ValueError, match="does not take"):
        LaPerm(keras.optimizers.Adam(), weight_decay=0.1)


def test_mirrored_strategy_on_two_logical_cpus_matches_single_device():
    devices = tf.config.list_logical_devices("CPU")
    if len(devices) < 2:
        pytest.skip("needs 2 logical CPU devices (configured in conftest.py)")
    x, y = _data(48)
    results = []
    for strategy in (tf.distribute.get_strategy(),
                     tf.distribute.MirroredStrategy(
                         [d.name for d in devices[:2]],
                         cross_device_ops=tf.distribute.ReductionToOneDevice())):
        with strategy.scope():
            keras.utils.set_random_seed(1)
            model = _model(bn=False)
            model.compile(optimizer=LaPerm(keras.optimizers.Adam(0.05), sync_period=2),
                          loss="categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
        opt = model.optimizer
        assert int(opt.sync_count.numpy()) == 3
        assert opt.check_permutations(model.trainable_variables)
        results.append([v.numpy() for v in model.trainable_variables])
    for single, mirrored in zip(*results):
        np.testing.assert_allclose(single, mirrored, rtol=1e-5, atol=1e-6)


def test_synchronize_under_mirrored_strategy_outside_its_scope():
    devices = tf.config.list_logical_devices("CPU")
    if len(devices) < 2:
        pytest.skip("needs 2 logical CPU devices (configured in conftest.py)")
    strategy = tf.distribute.MirroredStrategy(
        [d.name for d in devices[:2]], cross_device_ops=tf.distribute.ReductionToOneDevice())
    with strategy.scope():
        model = _model(bn=False)
        opt = LaPerm(keras.optimizers.Adam(0.05), sync_period=1000)
        model.compile(optimizer=opt, loss="categorical_crossentropy")
    x, y = _data(48)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert int(opt.sync_count.numpy()) == 0
    assert not opt.check_permutations(model.trainable_variables)
    opt.synchronize()  # eagerly
    assert opt.check_permutations(model.trainable_variables)
    tf.function(opt.synchronize)()
    assert int(opt.sync_count.numpy()) == 2


def test_synchronize_in_a_graph_before_the_initial_weights_are_recorded_is_a_no_op():
    model = _model(bn=False)
    opt = LaPerm(keras.optimizers.Adam(0.05), sync_period=1000)
    # Built while tracing: recording the initial weights waits for the first step.
    tf.function(lambda: opt.build(model.trainable_variables)).get_concrete_function()
    assert int(opt.initialized.numpy()) == 0
    before = [v.numpy().copy() for v in model.trainable_variables]
    tf.function(opt.synchronize)()
    for value, variable in zip(before, model.trainable_variables):
        np.testing.assert_array_equal(value, variable.numpy())
    assert int(opt.sync_count.numpy()) == 0
    with pytest.raises(RuntimeError, match="train a step first"):
        opt.synchronize()


def test_keras_file_round_trip_restores_sorted_initial_values(tmp_path):
    model = _model()
    initial = {v.path: v.numpy().copy() for v in model.trainable_variables}
    _fit(model, LaPerm(keras.optimizers.Adam(0.05), sync_period=3), 5)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    opt = loaded.optimizer
    assert isinstance(opt, LaPerm) and int(opt.iterations.numpy()) == 5
    kernel = loaded.get_layer("dense").kernel
    np.testing.assert_array_equal(opt.sorted_initial(kernel).numpy(),
                                  sorted_rows(tf.constant(initial["dense/kernel"])).numpy())
    x, y = _data(8)
    loaded.fit(x, y, batch_size=8, epochs=1, verbose=0)  # step 6: a sync
    assert int(opt.sync_count.numpy()) == 2
    assert opt.check_permutations(loaded.trainable_variables)
    np.testing.assert_array_equal(np.sort(kernel.numpy(), axis=0),
                                  np.sort(initial["dense/kernel"], axis=0))


def test_checkpoint_round_trip(tmp_path):
    model = _model(bn=False)
    _fit(model, LaPerm(keras.optimizers.Adam(0.05), sync_period=4), 3)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    path = checkpoint.save(str(tmp_path / "ckpt"))
    expected = [v.numpy() for v in model.optimizer.variables]
    for v in model.optimizer.variables:
        v.assign(tf.zeros_like(v))
    checkpoint.restore(path).assert_consumed()
    for v, e in zip(model.optimizer.variables, expected):
        np.testing.assert_array_equal(v.numpy(), e)


def test_changed_positions_count_against_the_previous_sync():
    model = _model(bias=False, bn=False)
    opt = _fit(model, LaPerm(keras.optimizers.Adam(0.0), sync_period=1), 3).optimizer
    assert int(opt.sync_count.numpy()) == 3
    assert int(opt.last_sync_changed.numpy()) == 0  # nothing moved: no position changed
    model2 = _model(bias=False, bn=False)
    before = [v.numpy().copy() for v in model2.trainable_variables]
    opt2 = _fit(model2, LaPerm(keras.optimizers.Adam(0.5), sync_period=1), 1).optimizer
    moved = sum(int(np.count_nonzero(v.numpy() != b))
                for v, b in zip(model2.trainable_variables, before))
    assert int(opt2.last_sync_changed.numpy()) == moved > 0


def test_random_tie_break_is_reproducible_and_unbiased():
    # A row that is all ties: which positions get the large values is the tie order.
    initial = tf.constant([[0.0] * 6 + [1.0] * 2] * 1).numpy().T  # dense (8, 1): one unit
    current = tf.zeros((8, 1))
    sorted_initial = sorted_rows(tf.constant(initial))
    stable = reconnect(current, sorted_initial).numpy().ravel()
    np.testing.assert_array_equal(stable, [0, 0, 0, 0, 0, 0, 1, 1])  # ties by position
    picks = set()
    for step in range(20):
        seed = tf.constant([7, step], tf.int64)
        a = reconnect(current, sorted_initial, seed).numpy().ravel()
        np.testing.assert_array_equal(a, reconnect(current, sorted_initial, seed).numpy().ravel())
        assert sorted(a) == sorted(initial.ravel())
        picks.add(tuple(np.flatnonzero(a)))
    assert len(picks) > 5  # the large values land on different positions


def test_random_tie_break_orders_distinct_values_exactly_and_compiles():
    # Signs, zeros of both signs, infinities, huge and tiny magnitudes: the random
    # tie key must rank them exactly like the values (only equal values shuffle).
    values = np.array([-np.inf, -7e30, -3.5, -1e-30, -3e-39, -0.0, 0.0, 3e-39, 1e-30, 2.0,
                       7e30, np.inf, -2.5, 0.5], np.float32)  # +-3e-39: denormals
    current = tf.constant(values[:, None])  # dense (14, 1): one unit
    sorted_initial = tf.constant(np.arange(14, dtype=np.float32)[None, :])
    seed = tf.constant([3, 9], tf.int64)
    out = reconnect(current, sorted_initial, seed).numpy().ravel()
    ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    zeros = [5, 6]  # -0.0 and 0.0 tie: either order
    np.testing.assert_array_equal(np.delete(out, zeros), np.delete(ranks, zeros))
    assert sorted(out[zeros]) == sorted(ranks[zeros])
    close = tf.constant([[1.0 + 2e-12], [1.0], [1.0 + 1e-12]], tf.float64)  # one float32
    out64 = reconnect(close, tf.constant([[0.0, 1.0, 2.0]], tf.float64), seed).numpy().ravel()
    np.testing.assert_array_equal(out64, [2.0, 0.0, 1.0])
    random_rows = tf.random.stateless_normal((3, 3, 8, 16), seed=(5, 6))
    initial = sorted_rows(tf.random.stateless_normal((3, 3, 8, 16), seed=(7, 8)))
    compiled = tf.function(reconnect, jit_compile=True)
    np.testing.assert_array_equal(compiled(random_rows, initial, seed).numpy(),
                                  reconnect(random_rows, initial, seed).numpy())
    np.testing.assert_array_equal(reconnect(random_rows, initial, seed).numpy(),
                                  reconnect(random_rows, initial).numpy())  # no ties


def test_synchronize_reconnects_off_schedule():
    model = _model()
    initial = {v.path: v.numpy().copy() for v in model.trainable_variables}
    opt = LaPerm(keras.optimizers.Adam(0.05), sync_period=1000)
    with pytest.raises(RuntimeError, match="train a step first"):
        opt.synchronize(model.trainable_variables)
    _fit(model, opt, 4)
    assert not opt.check_permutations(model.trainable_variables)  # moved freely
    tf.function(opt.synchronize)()
    assert opt.check_permutations(model.trainable_variables)
    assert int(opt.sync_count.numpy()) == 1
    for variable in model.trainable_variables:
        if opt.is_permuted(variable):
            np.testing.assert_array_equal(
                sorted_rows(tf.convert_to_tensor(variable)).numpy(),
                sorted_rows(tf.constant(initial[variable.path])).numpy())


def test_tie_break_option_is_validated_and_saved():
    opt = LaPerm(keras.optimizers.Adam(), tie_break="position", seed=3)
    assert LaPerm.from_config(opt.get_config()).tie_break == "position"
    with pytest.raises(ValueError, match="tie_break"):
        LaPerm(keras.optimizers.Adam(), tie_break="first")


def test_ties_are_ordered_by_position_by_default_as_the_originals_argsort():
    assert LaPerm(keras.optimizers.Adam()).tie_break == "position"
    rows = np.random.RandomState(0).randint(0, 3, size=(4, 500)).astype(np.float32)
    np.testing.assert_array_equal(tf.argsort(rows, axis=-1).numpy(),
                                  np.argsort(rows, axis=-1, kind="stable"))
