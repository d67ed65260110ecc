"""masktrainer.run.checkpoints: a checkpoint restores the random generators' states."""

import json

import numpy as np


def test_checkpoint_restores_random_generator_states(tmp_path):
    import keras

    from masktrainer.run.checkpoints import RunCheckpoint

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dropout(0.5, seed=1)(inputs)))
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4)), np.ones((8, 2)), verbose=0)
    (tmp_path / "checkpoint").mkdir()
    checkpoint = RunCheckpoint(tmp_path, model)
    checkpoint.save(1)
    state = [v for v in model.variables if "seed_generator_state" in v.path][0]
    saved = state.numpy().copy()
    state.assign(saved + 7)
    checkpoint.restore(json.loads((tmp_path / "checkpoint" / "resume.json").read_text()))
    np.testing.assert_array_equal(state.numpy(), saved)
