"""The LaPerm authors' released checkpoints (masktrainer.methods.train_by_reconnect.checkpoints):
each notebook's data settings from its preset, its input shape and the model it fills."""

from __future__ import annotations

import pytest

from laperm.names import MNIST_MODELS, MODEL_NAMES
from masktrainer import presets
from masktrainer.errors import ConfigError
from masktrainer.methods import get_method
from masktrainer.methods.train_by_reconnect.checkpoints import DATA_FLAGS, NotebookCheckpoints


def test_the_method_declares_the_notebook_checkpoints():
    checkpoints = get_method("LaPerm").checkpoints
    assert isinstance(checkpoints, NotebookCheckpoints)
    assert checkpoints.nets == MODEL_NAMES and checkpoints.source == "Train-by-Reconnect"


@pytest.mark.parametrize("nettype", MODEL_NAMES)
def test_settings_are_the_data_side_of_the_notebooks_preset(nettype):
    settings = NotebookCheckpoints().settings(nettype)
    flags = presets.preset_flags(f"laperm_{nettype.lower()}")
    assert settings == {"traintype": "LaPerm", "nettype": nettype,
                        **{name: flags[name] for name in DATA_FLAGS if name in flags}}
    assert set(settings) - {"traintype", "nettype"} <= set(DATA_FLAGS)
    assert settings.get("protocol") == "original"
    shape = NotebookCheckpoints().input_shape(nettype)
    assert shape == ((28, 28, 1) if nettype in MNIST_MODELS else (32, 32, 3))


def test_a_preset_of_another_network_is_refused(monkeypatch):
    monkeypatch.setattr(presets, "preset_flags", lambda name: {"nettype": "F2"})
    with pytest.raises(ConfigError, match="^the preset laperm_f1 is not the F1 notebook$"):
        NotebookCheckpoints().settings("F1")


def test_the_model_is_the_notebooks_without_augmentation():
    model = NotebookCheckpoints().build_model("F1", (28, 28, 1), 10)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.count_params() == 28 * 28 * 10  # F1: one bias-free dense layer
    assert not any("augment" in layer.name for layer in model.layers)
