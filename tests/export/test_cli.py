"""`python -m masktrainer export`: plain Keras model and compact file of real (tiny) runs."""

import json
import shutil

import keras
import numpy as np
import pytest

from masktrainer.cli import main
from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.export.cli import export_run
from masktrainer.export.compact import load_compact
from masktrainer.export.plain import leaf_layers, non_standard_layers
from masktrainer.run.trainer import train

RUNS = {
    "mask": dict(traintype="FreePruning", masktype="mask"),
    "mask_rs": dict(traintype="MinPruning", masktype="mask_rs", activation="swish"),
    "flip": dict(traintype="FreeFlipping", activation="selu", selu_is_elu=True),
    "edge_popup": dict(traintype="EdgePopup", keep_ratio=0.3),
    "slots": dict(traintype="SlotMachine", slots=8, selection="greedy"),
    "laperm_f1": dict(traintype="LaPerm", nettype="F1", batchsize=128),
}


def _subset(splits: Splits) -> Splits:
    return Splits(splits.x_train[:2000], splits.y_train[:2000], splits.x_val[:500],
                  splits.y_val[:500], splits.x_test[:500], splits.y_test[:500],
                  splits.num_classes, splits.source)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, mnist_splits):
    """name -> (run directory, export result) for one 1-epoch run per method."""
    out, data, results = tmp_path_factory.mktemp("export"), _subset(mnist_splits), {}
    for seed, (name, options) in enumerate(RUNS.items(), start=21):
        cfg = RunConfig(maxepochs=1, seed=seed, outputpath=str(out / name), progress="none",
                        **options)
        run_dir = train(cfg, data=data, echo=None).run_dir
        results[name] = (run_dir, export_run(run_dir, echo=None))
    return results, data.x_test


@pytest.mark.parametrize("name", list(RUNS))
def test_plain_and_compact_exports_predict_like_the_run(exported, name):
    results, x = exported
    run_dir, result = results[name]
    trained = keras.models.load_model(run_dir / "model.keras", compile=False)
    plain = keras.models.load_model(result.files["plain"], compile=False)
    assert non_standard_layers(plain) == []
    kinds = {type(layer).__name__ for layer in leaf_layers(plain)}
    assert kinds & {"Dense", "Conv2D"}
    want = trained.predict(x, batch_size=250, verbose=0)
    np.testing.assert_allclose(plain.predict(x, batch_size=250, verbose=0), want,
                               rtol=1e-5, atol=1e-6)
    compact = load_compact(run_dir)
    np.testing.assert_allclose(compact.predict(x, batch_size=250, verbose=0), want,
                               rtol=1e-5, atol=1e-6)
    for got, expected in zip(compact.weights, plain.weights):  # bit for bit
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    with np.load(result.files["compact"], allow_pickle=False) as data:
        assert all(data[key].dtype.kind in "biuf" for key in data.files)
    assert result.compact_bytes < result.dense_bytes


def test_compact_ratio_of_a_pruned_lenet(exported):
    # Measured: LeNet-300-100 FreePruning mask, 1,064,800 kernel bytes -> compact ~0.032
    # (about 1/31: one bit per weight plus the embedded config).
    results, _ = exported
    assert results["mask"][1].ratio < 1 / 25
    assert results["slots"][1].ratio < 4 / 32  # 3 bits per weight for K = 8


def test_cli_export_and_its_errors(exported, tmp_path, capsys):
    results, _ = exported
    run_dir = results["edge_popup"][0]
    out = tmp_path / "out"
    assert main(["masktrainer", "export", str(run_dir), "--out", str(out),
                 "--formats", "compact"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["compact.npz"]
    assert "dense float32 kernels" in capsys.readouterr().out

    incomplete = tmp_path / "incomplete"
    shutil.copytree(run_dir, incomplete, ignore=shutil.ignore_patterns("export"))
    metrics = json.loads((incomplete / "metrics.json").read_text())
    (incomplete / "metrics.json").write_text(json.dumps({**metrics, "status": "running"}))
    no_model = tmp_path / "no_model"
    shutil.copytree(run_dir, no_model, ignore=shutil.ignore_patterns("export", "model.keras"))
    (tmp_path / "empty").mkdir()
    bad = [
        [str(tmp_path / "missing")],
        [str(tmp_path / "empty")],
        [str(incomplete)],
        [str(no_model)],
        [str(run_dir), "--formats", "onnx"],
        [],
    ]
    for args in bad:
        capsys.readouterr()
        assert main(["masktrainer", "export", *args]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("masktrainer: error: ") and err.count("\n") == 1, err
    assert not (incomplete / "export").exists() and not (no_model / "export").exists()


def test_nested_laperm_model_round_trips_permutations():
    """Conv7 (augmentation model in front): permuted kernels compact to row indices."""
    from masktrainer.export.compact import (
        apply_compact,
        encode_run,
        rebuild_initial_model,
    )
    from masktrainer.export.plain import to_plain_model

    cfg = RunConfig(traintype="LaPerm", nettype="Conv7")
    config = {**cfg.to_dict(), "method": "laperm", "resolved_seed": 5}
    model = rebuild_initial_model(config, (28, 28, 1), 10)
    assert any(isinstance(layer, keras.Model) for layer in model.layers)
    rng = np.random.default_rng(0)
    kernels = [w for w in model.weights if len(w.shape) == 2]
    value = kernels[-1].numpy()
    shuffled_rows = rng.permuted(np.indices(value.shape)[0], axis=0)  # per column (= unit)
    kernels[-1].assign(np.take_along_axis(value, shuffled_rows, 0))
    biases = [w for w in model.weights if w.path.endswith("bias")]
    biases[0].assign(biases[0].numpy() + 0.5)
    plain = to_plain_model(model)
    arrays = encode_run(model, config, reference=plain)
    assert any(key.endswith(".perm") for key in arrays)
    assert any(key.endswith(".value") for key in arrays)
    rebuilt = apply_compact(rebuild_initial_model(config, (28, 28, 1), 10), arrays)
    x = rng.normal(size=(8, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))
