"""The contract every registered method passes (a new method gets these tests for free).

For each method in ``masktrainer.methods.METHODS``, on a small slice of the embedded MNIST
and the method's ``example()`` settings: its defaults validate and round-trip through
JSON; a tiny model trains two epochs and writes every metric its recorder declares;
``model.keras`` round-trips; the plain export predicts like the trained model; the compact
export reloads bit for bit; a run stopped after epoch 1 and resumed ends bit for bit like an
uninterrupted one (the stopped run runs 3 steps per execution, the uninterrupted one 1: a
chunked run trains step for step like an unchunked one).
"""

import csv
import importlib
import json
import pkgutil
from pathlib import Path

import keras
import numpy as np
import pytest

from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.export.cli import export_run
from masktrainer.export.compact import load_compact
from masktrainer.methods.figures import Figures
from masktrainer.methods.recording import CORE_KEYS
from masktrainer.run.loading import load_data
from masktrainer.run.rundir import load_arrays
from masktrainer.run.trainer import Trainer

METHODS = {method.key: method for method in methods.METHODS}
EPOCHS = 2


class Stop(Exception):
    """Raised from the console after epoch 1: the run dies right after its checkpoint."""


def _config(method, out: Path, steps_per_execution: int = 1) -> RunConfig:
    settings = {"traintype": method.train_types[0], **method.recipe.example()}
    return RunConfig(**settings, maxepochs=EPOCHS, batchsize=100, seed=3, progress="none",
                     tensorboard=False, outputpath=str(out),
                     steps_per_execution=steps_per_execution)


def _small(splits: Splits) -> Splits:
    return Splits(splits.x_train[:1000], splits.y_train[:1000], splits.x_val[:300],
                  splits.y_val[:300], splits.x_test[:300], splits.y_test[:300],
                  splits.num_classes, splits.source)


def _stop_after_epoch_1(line: str) -> None:
    if line.startswith(f"epoch   1/{EPOCHS}"):
        raise Stop()


def test_the_registry_holds_every_method_once():
    """Every subpackage of masktrainer/methods that defines METHOD is registered, once: keys
    and train types are unique, so a train type names exactly one method."""
    declared = []
    for info in pkgutil.iter_modules(methods.__path__):
        module = importlib.import_module(f"{methods.__name__}.{info.name}")
        if info.ispkg and hasattr(module, "METHOD"):
            declared.append(module.METHOD)
    assert declared and sorted(map(id, declared)) == sorted(map(id, methods.METHODS))
    assert len(METHODS) == len(methods.METHODS)
    every = [t for method in methods.METHODS for t in method.train_types]
    assert all(method.train_types for method in methods.METHODS)
    assert list(methods.train_types()) == every and len(set(every)) == len(every)
    for method in methods.METHODS:
        assert all(methods.get_method(t) is method for t in method.train_types)


def _example_net(method) -> dict:
    """The example's --nettype, if it names one (the method may not build the default)."""
    example = method.recipe.example()
    return {"nettype": example["nettype"]} if "nettype" in example else {}


@pytest.mark.parametrize("key", list(METHODS))
def test_defaults_of_every_train_type_validate_and_round_trip(key):
    for traintype in METHODS[key].train_types:
        cfg = RunConfig(traintype=traintype, **_example_net(METHODS[key]))
        assert cfg.method.startswith(key.split("_")[0])
        assert RunConfig.from_dict(json.loads(cfg.to_json())) == cfg
        assert METHODS[key].recipe.run_folder(cfg).parts[0] == cfg.outputpath


@pytest.fixture(scope="module", params=list(METHODS))
def contract_run(request, tmp_path_factory):
    """A finished run, and a run stopped after epoch 1 then resumed, of one method."""
    method = METHODS[request.param]
    out = tmp_path_factory.mktemp(request.param)
    cfg = _config(method, out / "full")
    data = _small(load_data(cfg))
    full = Trainer(cfg, data=data, echo=None).run()
    stopped = _config(method, out / "stopped", steps_per_execution=3)  # 10 steps: 3+3+3+1
    with pytest.raises(Stop):
        Trainer(stopped, data=data, echo=_stop_after_epoch_1,
                resolved_seed=cfg.seed).run()
    run_dir = next((out / "stopped").rglob("config.json")).parent
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "running"
    Trainer(stopped, data=data, echo=None, resume_dir=run_dir, resolved_seed=cfg.seed).run()
    return method, cfg, data, full.run_dir, run_dir


def test_the_run_writes_every_declared_metric(contract_run):
    method, cfg, data, run_dir, _ = contract_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "complete" and metrics["epochs_completed"] == EPOCHS
    model = methods.build_model(cfg, data.input_shape, data.num_classes, cfg.seed)
    model.compile(optimizer=method.runtime.make_optimizer(cfg, cfg.seed),
                  loss="categorical_crossentropy")
    recorder = method.runtime.recorder(cfg, model)
    for key in (*CORE_KEYS, *recorder.flat_keys, *recorder.per_layer_fields(), "epochSeconds"):
        assert len(metrics[key]) == EPOCHS + 1, key
    assert metrics["layer_names"] == recorder.layer_names
    evaluated = [metrics[key][-1] for key in ("testAccuracy", "valAccuracy")
                 if metrics[key][-1] is not None]  # Slot Machines: val only, as its original
    assert evaluated and evaluated[0] > 0.2  # it learned something in 20 steps
    with open(run_dir / "metrics.csv", newline="") as handle:
        assert len(list(csv.reader(handle))) == EPOCHS + 2
    config = json.loads((run_dir / "config.json").read_text())
    assert config["method"] == cfg.method and config["traintype"] == cfg.traintype
    for path in run_dir.glob("*.npz"):
        assert load_arrays(path)  # plain arrays, allow_pickle=False
    # What the run changed of the initial random network (the compare tables' column).
    # Trained weights all change, unless the method measures what changed itself (LaPerm:
    # the weights that moved); a masked network keeps some of its initial connections.
    changed = method.figures.changed_fraction(cfg, metrics, run_dir)
    assert changed is not None and 0.0 <= changed <= 1.0
    measures_itself = type(method.figures).changed_fraction is not Figures.changed_fraction
    if method.recipe.trainable(cfg)[0] and not measures_itself:
        assert changed == 1.0
    else:
        assert changed < 1.0


def test_model_keras_round_trips(contract_run, tmp_path):
    _, _, data, run_dir, _ = contract_run
    methods.register_keras_objects()
    model = keras.models.load_model(run_dir / "model.keras", compile=False)
    model.save(tmp_path / "again.keras")
    again = keras.models.load_model(tmp_path / "again.keras", compile=False)
    for got, want in zip(again.weights, model.weights):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=want.path)
    x = data.x_test[:64]
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_plain_export_predicts_like_the_run_and_compact_reloads_bit_for_bit(contract_run,
                                                                           tmp_path):
    _, _, data, run_dir, _ = contract_run
    result = export_run(run_dir, tmp_path / "export", echo=None)
    methods.register_keras_objects()
    trained = keras.models.load_model(run_dir / "model.keras", compile=False)
    plain = keras.models.load_model(result.files["plain"], compile=False)
    x = data.x_test[:64]
    np.testing.assert_allclose(plain.predict(x, verbose=0), trained.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert result.compact_bytes < result.dense_bytes
    rebuilt = load_compact(result.files["compact"])
    assert len(rebuilt.weights) == len(plain.weights)
    for got, want in zip(rebuilt.weights, plain.weights):
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=want.path)


def test_a_stopped_and_resumed_run_ends_bit_for_bit_like_an_uninterrupted_one(contract_run):
    _, _, _, full, resumed = contract_run
    a, b = (json.loads((p / "metrics.json").read_text()) for p in (full, resumed))
    for key, series in a.items():
        if isinstance(series, list) and key != "epochSeconds":
            assert b[key] == series, key
    names = sorted(p.name for p in full.glob("*.npz"))
    assert names and names == sorted(p.name for p in resumed.glob("*.npz"))
    for name in names:
        xa, xb = load_arrays(full / name), load_arrays(resumed / name)
        assert sorted(xa) == sorted(xb)
        for key in xa:
            np.testing.assert_array_equal(xa[key], xb[key], err_msg=f"{name}:{key}")
