"""masktrainer.evaluate.scoring: checkpoint weights land in the model's layers in order."""

import numpy as np
import pytest

from masktrainer.evaluate.h5 import read_weight_file
from masktrainer.evaluate.scoring import checkpoint_model, weighted_layers
from masktrainer.methods import get_method


@pytest.mark.parametrize("nettype", ["Conv7", "ResNet50"])
def test_checkpoints_of_biased_nets_land_in_every_layer_in_order(keras2, tmp_path, nettype):
    """A notebook model's own weights, written in the Keras 2 layout, load back unchanged."""
    from laperm.models import build_laperm_model, default_input_shape

    shape = default_input_shape(nettype)
    source = build_laperm_model(nettype, shape, seed=5)
    layers = [(f"k2_{i}", [(f"k2_{i}/{w.name}:0", w.numpy()) for w in layer.weights])
              for i, layer in enumerate(weighted_layers(source))]
    path = keras2.write(tmp_path / f"{nettype}.h5", layers, whole_model=nettype == "ResNet50")
    checkpoints = get_method("LaPerm").checkpoints
    model, matched = checkpoint_model(checkpoints, nettype, read_weight_file(path), shape, 10)
    assert matched.dropped == []
    assert len(model.weights) == len(source.weights)
    for got, want in zip(model.weights, source.weights):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
