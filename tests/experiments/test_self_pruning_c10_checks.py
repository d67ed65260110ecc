"""experiments.self_pruning_c10_checks: the library's FreePruning Conv2 against the PyTorch peer."""

import numpy as np
import pytest

from experiments import self_pruning_c10_checks as checks


@pytest.fixture
def small():
    pytest.importorskip("torch")  # the peer's side
    rng = np.random.RandomState(0)
    x = rng.normal(size=(50, 8, 8, 3)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(0, 10, 50)]
    model, masked = checks.library_model(x.shape[1:])
    return model, masked, x, y


def test_gradients_follow_the_straight_through_rule_and_match_the_peer(small):
    model, masked, x, y = small
    for layer in masked:  # a pruned state: the mask_rs factor well above one
        layer.score.assign(np.random.RandomState(1).uniform(-0.07, 0.1, layer.score.shape)
                           .astype(np.float32))
    found = checks.compare_gradients(model, masked, x[:25], y[:25])
    assert found["loss"] == pytest.approx(found["peer_loss"], rel=1e-4)
    for row in found["layers"]:
        assert row["scale"] > 1.5
        assert row["vs_rule"] < 1e-5 and row["vs_peer"] < 1e-4
        assert row["vs_rule_times_scale"] > 0.3  # the factor is not in the gradient


def test_the_train_step_is_the_originals_adam_not_torchs(small):
    model, masked, x, y = small
    found = checks.compare_steps(model, masked, x, y, steps=2)
    assert max(found["keras Adam float64"]) < 1e-4 < min(found["moved"])
    assert max(found["torch Adam float32"]) > 10 * max(found["keras Adam float64"])
