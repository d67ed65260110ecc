"""masktrainer.run.loading: which images a run trains, validates and tests on."""

import numpy as np

from masktrainer.config import RunConfig
from masktrainer.run.loading import load_data


def test_split_test_trains_on_every_image_and_validates_on_test():
    splits = load_data(RunConfig(traintype="LaPerm", nettype="F1", protocol="original"))
    assert len(splits.x_train) == 60_000
    np.testing.assert_array_equal(splits.x_val, splits.x_test)
    np.testing.assert_array_equal(splits.y_val, splits.y_test)
    assert float(splits.x_train.max()) == 1.0  # F1's notebook scaling x/255
