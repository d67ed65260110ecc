"""--augment: each pipeline's output (shape, values), determinism per seed, identity at evaluation,
the methods' defaults, and exact continuation of a resumed run."""

import json

import numpy as np
import pytest

from masktrainer.config import ConfigError, RunConfig
from masktrainer.data.preprocessing import Splits, normalized_black
from masktrainer.methods.upgrade import config_values
from masktrainer.nn.augment import RandomPadCrop, augmentation
from masktrainer.run.rundir import load_arrays
from masktrainer.run.trainer import Trainer

IMAGES = np.random.RandomState(0).rand(16, 32, 32, 3).astype(np.float32)


@pytest.mark.parametrize("kind,net", [("flip", "Conv2"), ("crop_flip", "Conv2"),
                                      ("shift_flip", "ResNet"), ("notebook", "Conv4"),
                                      ("notebook", "Conv7")])
def test_each_pipeline_keeps_shapes_changes_training_inputs_only_and_is_seeded(kind, net):
    x = IMAGES[..., :1] if net == "Conv7" else IMAGES
    layer = augmentation(kind, nettype=net, seed=3, fill=(-1.0, -2.0, -3.0)[: x.shape[-1]])
    out = layer(x, training=True).numpy()
    assert out.shape == x.shape and np.isfinite(out).all()
    assert not np.array_equal(out, x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)  # off at evaluation
    again = augmentation(kind, nettype=net, seed=3, fill=(-1.0, -2.0, -3.0)[: x.shape[-1]])
    np.testing.assert_array_equal(again(x, training=True).numpy(), out)
    other = augmentation(kind, nettype=net, seed=4, fill=(-1.0, -2.0, -3.0)[: x.shape[-1]])
    assert not np.array_equal(other(x, training=True).numpy(), out)
    assert augmentation("none", nettype=net, seed=3) is None


def test_flip_mirrors_whole_images():
    out = augmentation("flip", nettype="Conv2", seed=1)(IMAGES, training=True).numpy()
    flipped = [np.array_equal(o, x[:, ::-1]) for o, x in zip(out, IMAGES)]
    kept = [np.array_equal(o, x) for o, x in zip(out, IMAGES)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_pad_crop_is_an_integer_shift_of_up_to_4_pixels_filled_with_black():
    fill = normalized_black("hidden_networks", "cifar10")
    np.testing.assert_allclose(fill, [-0.491 / 0.247, -0.482 / 0.243, -0.447 / 0.262], rtol=1e-6)
    x = IMAGES + 5.0  # no pixel equals the fill
    out = RandomPadCrop(4, fill, seed=7)(x, training=True).numpy()
    shifts = set()
    for o, image in zip(out, x):
        found = None
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                padded = np.empty((40, 40, 3), np.float32)
                padded[...] = fill
                padded[4:36, 4:36] = image
                if np.array_equal(o, padded[4 + dy:36 + dy, 4 + dx:36 + dx]):
                    found = (dy, dx)
        assert found is not None
        shifts.add(found)
    assert len(shifts) > 4


def test_method_defaults_follow_the_originals():
    def augment(**kw):
        return RunConfig(**kw).augment

    assert augment(traintype="EdgePopup", nettype="Conv2") == "crop_flip"
    assert augment(traintype="SupermaskSampling", nettype="Conv4") == "crop_flip"
    assert augment(traintype="SlotMachine", nettype="Conv2") == "flip"
    assert augment(traintype="LaPerm", nettype="Conv4") == "notebook"
    assert augment(traintype="LaPerm", nettype="F2") == "none"
    assert augment(nettype="ResNet") == "shift_flip" and augment(nettype="Conv2") == "none"
    assert augment(traintype="EdgePopup") == "none"  # MNIST
    assert augment(traintype="EdgePopup", nettype="Conv2", augment="none") == "none"
    with pytest.raises(ConfigError, match="notebook models"):
        RunConfig(traintype="EdgePopup", nettype="Conv8", augment="notebook")


def test_runs_of_the_previous_version_keep_their_augmentation():
    old = {"traintype": "FreePruning", "nettype": "ResNet"}
    assert config_values(old)["augment"] == "shift_flip"
    assert config_values({"traintype": "EdgePopup", "nettype": "Conv2"})["augment"] == "none"
    assert config_values({"traintype": "LaPerm", "nettype": "Conv7"})["augment"] == "notebook"
    assert config_values({"traintype": "LaPerm", "nettype": "F1"})["augment"] == "none"


class Stop(Exception):
    pass


def test_an_augmented_run_resumes_exactly(tmp_path):
    rng = np.random.RandomState(1)
    x = rng.rand(300, 32, 32, 3).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(0, 10, 300)]
    data = Splits(x[:200], y[:200], x[200:250], y[200:250], x[250:], y[250:], 10, "random")

    def config(out):
        return RunConfig(traintype="EdgePopup", nettype="Conv2", maxepochs=2, batchsize=100,
                         seed=5, outputpath=str(tmp_path / out), progress="none",
                         tensorboard=False)

    assert config("a").augment == "crop_flip"
    full = Trainer(config("a"), data=data, echo=None).run().run_dir

    def stop(line):
        if line.startswith("epoch   1/"):
            raise Stop()

    with pytest.raises(Stop):
        Trainer(config("b"), data=data, echo=stop).run()
    stopped = next((tmp_path / "b").rglob("config.json")).parent
    Trainer(config("b"), data=data, echo=None, resume_dir=stopped, resolved_seed=5).run()
    for key in ("trainLoss", "testLoss", "remainingWeights"):
        a, b = (json.loads((p / "metrics.json").read_text())[key] for p in (full, stopped))
        assert a == b, key
    for key, mask in load_arrays(full / "masks.npz").items():
        np.testing.assert_array_equal(load_arrays(stopped / "masks.npz")[key], mask)
