"""plain.keras carries the run's preprocessing: on RAW pixels it predicts like the trained
model on the library's preprocessed inputs (normalisation and binary input scale included)."""

import dataclasses

import keras
import numpy as np
import pytest

from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import prepare
from masktrainer.data.sources import load_embedded_mnist
from masktrainer.export.cli import export_run
from masktrainer.export.plain import non_standard_layers
from masktrainer.run.rundir import PREPROCESSING_NAME
from masktrainer.run.trainer import train


@pytest.fixture(scope="module")
def raw():
    mnist = load_embedded_mnist()
    return dataclasses.replace(mnist, x_train=mnist.x_train[:1500], y_train=mnist.y_train[:1500],
                               x_test=mnist.x_test[:300], y_test=mnist.y_test[:300])


@pytest.mark.parametrize("options", [
    dict(traintype="FreePruning"),  # train_stats: per-pixel mean, scalar std
    dict(traintype="FreeFlipping", initializer="binary"),  # and the binary input scale
    dict(traintype="EdgePopup", keep_ratio=0.5),  # hidden-networks' fixed constants
])
def test_plain_export_on_raw_pixels_predicts_like_the_trained_model(raw, tmp_path, options):
    cfg = RunConfig(maxepochs=1, seed=7, outputpath=str(tmp_path), progress="none",
                    tensorboard=False, **options)
    scale = methods.method_of(cfg).runtime.input_scale(cfg, raw.x_train.shape[1:], raw.num_classes)
    if cfg.initializer == "binary":
        assert scale != 1.0
    data = prepare(raw, validation_size=300, normalization=cfg.normalization, input_scale=scale)
    run_dir = train(cfg, data=data, echo=None).run_dir
    assert (run_dir / PREPROCESSING_NAME).is_file()
    notes = []
    files = export_run(run_dir, echo=notes.append).files
    assert any("raw 0..255 pixels" in note for note in notes)
    trained = keras.models.load_model(run_dir / "model.keras", compile=False)
    plain = keras.models.load_model(files["plain"], compile=False)  # standard Keras only
    assert non_standard_layers(plain) == []
    want = trained.predict(data.x_test, batch_size=300, verbose=0)
    got = plain.predict(raw.x_test.astype(np.float32), batch_size=300, verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)
    assert np.mean(got.argmax(1) == want.argmax(1)) > 0.99
