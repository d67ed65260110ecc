"""Supermask sampling: Bernoulli masks, the straight-through gradient, evaluation masks, the
pruned-fraction estimate, the recipe and the CLI rules."""

import pytest

from masktrainer.cli import main
from masktrainer.config import RunConfig


def test_recipe_is_the_original_sample_configs():
    cfg = RunConfig(traintype="SupermaskSampling", nettype="Conv4")
    assert (cfg.optimizer, cfg.momentum, cfg.weight_decay, cfg.lr_schedule) == (
        "sgd", 0.9, 0.0, "cosine")
    assert (cfg.lr, cfg.batchsize, cfg.maxepochs, cfg.initializer, cfg.eval_mask) == (
        200.0, 128, 100, "kaiming_normal", "expected")
    assert RunConfig(traintype="SupermaskSampling", nettype="Conv8").lr == 800.0
    assert RunConfig(traintype="SupermaskSampling").dataset == "mnist"
    assert cfg.method == "supermask_sampling" and cfg.architecture == "Conv4"
    assert cfg.train_weights is False and cfg.train_scores is True


@pytest.mark.parametrize("args,message", [
    (["--eval_mask=sample"], "does not apply to --traintype=FreePruning"),
    (["--traintype=EdgePopup", "--score_init_constant=1"], "--score_init_constant does not apply"),
    (["--traintype=SupermaskSampling", "--keep_ratio=0.5"], "--keep_ratio does not apply"),
    (["--traintype=SupermaskSampling", "--initializer=he"], "initializer"),
    (["--traintype=SupermaskSampling", "--eval_mask=mean"], "eval_mask"),
    (["--traintype=SupermaskSampling", "--masktype=mask"], "--masktype does not apply"),
    (["--traintype=SupermaskSampling", "--nettype=F1"], "use --traintype=LaPerm"),
])
def test_cli_errors(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["p", f"--outputpath={out}", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("masktrainer: error:") and message in err, err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_a_real_mnist_epoch_learns(tmp_path, mnist_splits):
    from masktrainer.data.preprocessing import Splits
    from masktrainer.run.trainer import train

    s = mnist_splits
    data = Splits(s.x_train[:20000], s.y_train[:20000], s.x_val[:2000], s.y_val[:2000],
                  s.x_test[:2000], s.y_test[:2000], s.num_classes, s.source)
    cfg = RunConfig(traintype="SupermaskSampling", maxepochs=1, seed=2, outputpath=str(tmp_path),
                    progress="none", tensorboard=False, jit_compile="on")
    metrics = train(cfg, data=data, echo=None).metrics
    # Floor; 2 epochs on all 55k images give 95.4 % (expected mask, the default).
    assert metrics["testAccuracy"][-1] >= 0.85
    estimate = metrics["prunedFractionEstimate"]
    assert estimate[0] == pytest.approx(0.5, abs=0.01) and 0.05 < estimate[-1] < 0.95
    assert len(metrics["prunedFractionEstimatePerLayer"][-1]) == 3
    # The compare tables' "connections changed": the expected mask zeroes no weight, so the
    # column is what a sampled network drops, layers weighted by their size.
    from masktrainer.methods import method_of

    changed = method_of(cfg).figures.changed_fraction(cfg, metrics, tmp_path)
    last, sizes = metrics["prunedFractionEstimatePerLayer"][-1], metrics["layer_sizes"]
    assert changed == pytest.approx(sum(v[0] * n for v, n in zip(last, sizes)) / sum(sizes))
    assert 0.05 < changed < 0.95


def test_changed_fraction_follows_the_evaluation_mask():
    from masktrainer.methods import method_of

    metrics = {"layer_sizes": [300, 100],
               "prunedFractionEstimatePerLayer": [[[0.5], [0.5]], [[0.4], [0.8]]],
               "remainingWeightsPerLayer": [None, [[0, 60, 240, 0, 60, 240],
                                                   [0, 10, 90, 0, 10, 90]]]}
    for eval_mask, want in (("expected", 0.5), ("sample", 0.5), ("threshold", 0.175)):
        cfg = RunConfig(traintype="SupermaskSampling", eval_mask=eval_mask)
        assert method_of(cfg).figures.changed_fraction(cfg, metrics, None) == pytest.approx(want)
    cfg = RunConfig(traintype="SupermaskSampling")
    assert method_of(cfg).figures.changed_fraction(cfg, {"layer_sizes": [3]}, None) is None
