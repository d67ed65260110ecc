"""--precision: float32 variables and bfloat16 compute, exact rules kept exact, the notice
on hardware without native bfloat16, the old --mixed_precision spelling, and runs of
different precision kept apart."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from masktrainer import methods
from masktrainer.cli import main
from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError
from masktrainer.layout import with_precision
from masktrainer.methods.upgrade import config_values
from masktrainer.nn.method_layer import MethodLayer
from masktrainer.run import runtime
from masktrainer.run.trainer import train

METHODS = {method.key: method for method in methods.METHODS}


@pytest.fixture(autouse=True)
def _float32_after():
    yield
    keras.mixed_precision.set_global_policy("float32")


def _config(key: str, **extra) -> RunConfig:
    method = METHODS[key]
    return RunConfig(**{"traintype": method.train_types[0], **method.recipe.example(), **extra})


def _model(cfg: RunConfig) -> keras.Model:
    keras.mixed_precision.set_global_policy(cfg.precision)
    return methods.method_of(cfg).runtime.build_model(cfg, (28, 28, 1), 10, 5)


def test_the_old_spelling_is_an_alias():
    cfg = RunConfig(mixed_precision=True)
    assert (cfg.precision, cfg.mixed_precision) == ("mixed_float16", False)
    assert RunConfig.from_dict(json.loads(cfg.to_json())) == cfg
    with pytest.raises(ConfigError, match="contradicts --precision=mixed_bfloat16"):
        RunConfig(mixed_precision=True, precision="mixed_bfloat16")
    with pytest.raises(ConfigError, match="--precision"):
        RunConfig(precision="bfloat16")


def test_old_run_directories_read_as_float32_or_float16():
    assert with_precision({"mixed_precision": False})["precision"] == "float32"
    assert with_precision({"mixed_precision": True})["precision"] == "mixed_float16"
    assert with_precision({"precision": "mixed_bfloat16"})["precision"] == "mixed_bfloat16"
    old = {**RunConfig().to_dict(), "mixed_precision": True}
    del old["precision"]
    assert RunConfig.from_dict(config_values(old)).precision == "mixed_float16"


@pytest.mark.parametrize("key", list(METHODS))
def test_bfloat16_keeps_variables_float32_and_computes_in_bfloat16(key):
    cfg = _config(key, precision="mixed_bfloat16")
    model = _model(cfg)
    assert {v.dtype for v in model.variables} <= {"float32", "int64", "uint32", "int32"}
    trained = [layer for layer in model.layers if layer.weights]
    assert trained and all(layer.compute_dtype == "bfloat16" for layer in trained[:-1])
    x = np.random.RandomState(0).rand(4, 28, 28, 1).astype(np.float32)
    out = model(x, training=False)
    assert out.dtype == "float32"  # the softmax output computes in float32
    assert keras.backend.standardize_dtype(model.outputs[0].dtype) == "float32"  # and says so
    np.testing.assert_allclose(np.sum(np.asarray(out), axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("key", ["edge_popup", "slot_machines", "self_pruning",
                                 "supermask_sampling"])
def test_bfloat16_selects_exactly_what_float32_selects(key):
    """Masks, kept counts and slot choices come from float32 scores under every policy."""
    chosen = {}
    for precision in ("float32", "mixed_bfloat16"):
        model = _model(_config(key, precision=precision))
        chosen[precision] = [layer.learned_arrays() for layer in model.layers
                             if isinstance(layer, MethodLayer)]
    assert chosen["float32"]
    for a, b in zip(chosen["float32"], chosen["mixed_bfloat16"]):
        assert sorted(a) == sorted(b)
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])


def test_a_bfloat16_run_records_its_precision_and_the_next_run_is_float32(tmp_path, mnist_splits):
    small = type(mnist_splits)(mnist_splits.x_train[:500], mnist_splits.y_train[:500],
                               mnist_splits.x_val[:200], mnist_splits.y_val[:200],
                               mnist_splits.x_test[:200], mnist_splits.y_test[:200],
                               mnist_splits.num_classes, mnist_splits.source)
    lines: list[str] = []
    common = dict(traintype="EdgePopup", keep_ratio=0.5, lr=0.1, maxepochs=1, batchsize=100,
                  seed=2, progress="none", tensorboard=False)
    bf16 = train(RunConfig(**common, precision="mixed_bfloat16",
                           outputpath=str(tmp_path / "bf16")), data=small, echo=lines.append)
    config = json.loads((bf16.run_dir / "config.json").read_text())
    assert config["precision"] == "mixed_bfloat16"
    assert "precision mixed_bfloat16" in (bf16.run_dir / "train.log").read_text()
    assert all(isinstance(a, float) for a in bf16.metrics["testAccuracy"] if a is not None)
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    train(RunConfig(**common, outputpath=str(tmp_path / "f32")), data=small, echo=None)
    assert keras.mixed_precision.global_policy().name == "float32"


def test_the_notice_on_a_cpu_without_bfloat16(monkeypatch):
    monkeypatch.setattr(runtime.tf.config, "list_physical_devices", lambda kind=None: [])
    cfg = RunConfig(precision="mixed_bfloat16")
    monkeypatch.setattr(runtime, "cpu_has_native_bfloat16", lambda: False)
    note = runtime.precision_note(cfg)
    assert note.startswith("note: this CPU") and "slower than float32" in note
    monkeypatch.setattr(runtime, "cpu_has_native_bfloat16", lambda: True)
    assert runtime.precision_note(cfg) is None
    assert runtime.precision_note(RunConfig()) is None


def test_float16_is_refused_on_a_cpu_in_one_line(tmp_path, capsys):
    if runtime.tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is present")
    assert main(["prog", "--precision=mixed_float16", f"--outputpath={tmp_path / 'o'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--precision=mixed_float16 needs a GPU" in err[0]
    assert not (tmp_path / "o").exists()
