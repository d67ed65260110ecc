"""masktrainer.data.settings: data settings that contradict each other are one-line
ConfigErrors when the configuration is made, before any data is read."""

import pytest

from masktrainer.config import ConfigError, RunConfig


@pytest.mark.parametrize("settings,message", [
    ({"split": "slot_machines", "dataset": "fashion_mnist"}, "--split=slot_machines exists for"),
    ({"split": "slot_machines", "data_source": "tfds"}, "publisher's file order"),
    ({"split": "slot_machines", "validation_size": 1000}, "--validation_size does not apply"),
    ({"split_dir": "/tmp"}, "--split_dir applies to --split=slot_machines only"),
    ({"split": "test", "validation_size": 1000}, "--validation_size does not apply to --split=test"),
    ({"data_source": "embedded", "dataset": "cifar10", "nettype": "Conv4"},
     "--data_source=embedded only ships mnist"),
    ({"data_source": "embedded", "data_dir": "/tmp"}, "uses the packaged MNIST"),
    ({"data_source": "files", "manual_dir": "/tmp"}, "--manual_dir is for --data_source=tfds"),
    ({"data_source": "tfds", "data_dir": "/tmp"}, "--data_dir is for --data_source=files"),
    ({"data_dir": "/tmp", "manual_dir": "/tmp"}, "not both"),
    ({"augment": "notebook"}, "--augment=notebook exists for the LaPerm notebook models"),
    ({"image_size": 64}, "--image_size applies to --dataset=imagenet2012 only"),
])
def test_contradicting_data_settings_are_one_line_errors(settings, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as caught:
        RunConfig(**settings)
    assert "\n" not in str(caught.value)


def test_consistent_settings_are_kept_as_given():
    assert RunConfig(split="slot_machines").split == "slot_machines"
    cfg = RunConfig(split="test", protocol="custom")
    assert (cfg.split, cfg.protocol) == ("test", "custom")
    cfg = RunConfig(data_source="files", data_dir="/tmp")
    assert (cfg.data_source, cfg.data_dir) == ("files", "/tmp")
