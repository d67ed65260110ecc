"""Issue 13, class 9: RunConfig (the Python API) refuses values of the wrong type with a
one-line ConfigError, as the command line does."""

import numpy as np
import pytest

from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError

CASES = {
    "lr-true": ({"lr": True}, "--lr must be a finite number > 0 (got True)"),
    "maxepochs-true": ({"maxepochs": True}, "--maxepochs must be an integer in [0, 1000000] (got True)"),
    "maxepochs-float": ({"maxepochs": 2.0}, "--maxepochs must be an integer in [0, 1000000] (got 2.0)"),
    "validation-size-true": ({"validation_size": True}, "--validation_size must be an integer"),
    "p1-true": ({"p1": True}, "--p1 must be a number in [0, 1] (got True)"),
    "lr-nan": ({"lr": float("nan")}, "--lr must be a finite number > 0 (got nan)"),
    "batchsize-numpy-int": ({"batchsize": np.int64(5)}, "--batchsize must be an integer"),
    "deterministic-string": ({"deterministic": "yes"}, "--deterministic must be true or false"),
    "tensorboard-string": ({"tensorboard": "false"}, "--tensorboard must be true or false"),
    "resnet-quirks-int": ({"resnet_quirks": 0}, "--resnet_quirks must be true or false"),
    "outputpath-int": ({"outputpath": 5}, "--outputpath must be a string (got 5)"),
    "data-dir-int": ({"data_dir": 5}, "--data_dir must be a string (got 5)"),
    "outputpath-bytes": ({"outputpath": b"Outputs"}, "--outputpath must be a string"),
    "outputpath-nul": ({"outputpath": "Out\x00puts"}, "--outputpath must not contain a NUL"),
    "nettype-list": ({"nettype": ["LeNet"]}, "--nettype must be a string (got ['LeNet'])"),
    "traintype-list": ({"traintype": ["FreePruning"]}, "--traintype must be a string"),
    "activation-list": ({"activation": ["relu"]}, "--activation must be a string"),
    "progress-none": ({"progress": None}, "--progress must be set"),
    "seed-none": ({"seed": None}, "--seed must be set"),
}


@pytest.mark.parametrize("values,message", list(CASES.values()), ids=list(CASES))
def test_wrong_types_are_a_config_error(values, message):
    with pytest.raises(ConfigError) as caught:
        RunConfig(**values)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "typo" not in str(caught.value)  # a range's reason is not a wrong type's


def test_from_dict_refuses_unknown_fields():
    with pytest.raises(ConfigError, match="unknown config field"):
        RunConfig.from_dict({"lr": 0.1, "learning_rate": 0.1})
