"""experiments.peers.controlled: its arguments, its data (the original's split), its run."""

import numpy as np
import pytest

from experiments.peers import controlled


@pytest.mark.parametrize("args,message", [
    (["--target", "C99"], "unknown 'C99'"),
    (["--slots", "1"], "--slots must be"),
    (["--epochs", "0"], "--epochs in"),
    (["--seeds", "1,x"], "comma list of integers"),
    (["--out", "/proc/version/x"], "--out"),
])
def test_bad_arguments_exit_2_before_any_work(args, message, capsys):
    with pytest.raises(SystemExit) as stop:
        controlled.main(["--data_dir", "/nonexistent", *args])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_the_sets_are_the_originals_split(shared_data_dir):
    sets = controlled.mnist_slot_split(str(shared_data_dir))
    assert {k: len(v[0]) for k, v in sets.items()} == {"train": 50_000, "val": 10_000,
                                                      "test": 10_000}
    x, y = sets["train"]
    assert x.shape[1] == 784 and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(y)) == set(range(10))


def test_a_short_run_learns_and_reads_test_at_the_best_validation_epoch(shared_data_dir):
    pytest.importorskip("torch")
    sets = controlled.mnist_slot_split(str(shared_data_dir))
    small = {k: (x[:2000], y[:2000]) for k, (x, y) in sets.items()}
    result = controlled.train_seed(small, slots=2, epochs=2, seed=1, echo=lambda _: None)
    best = max(result["epochs"], key=lambda r: r["val"])
    assert result["test_at_best_val"] == best["test"] and result["best_val_epoch"] == best["epoch"]
    assert result["epochs"][-1]["val"] > 50.0  # chance is 10 %


@pytest.mark.parametrize("args,message", [
    (["--target", "C4", "--variants", "Baseline"], "only with --target C10"),
    (["--target", "C10", "--variants", "FreePruning,Pruned"], "unknown Pruned"),
    (["--target", "C4", "--adam", "torch"], "--adam: only with --target C1, C2 or C10"),
    (["--target", "C1", "--adam", "adamw"], "--adam: unknown 'adamw'"),
    (["--target", "C10", "--adam", "adamw"], "--adam: unknown 'adamw'"),
    (["--target", "C4", "--objective", "mean"], "only with --target C1 or C2"),
    (["--target", "C10", "--init_from", "/tmp"], "only with --target C1 or C2"),
])
def test_bad_c10_arguments_exit_2_before_any_work(args, message, capsys):
    with pytest.raises(SystemExit) as stop:
        controlled.main(["--data_dir", "/nonexistent", *args])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]



@pytest.mark.parametrize("target", ["C1", "C2", "C10"])
def test_adam_is_accepted_for_the_adam_targets(target):
    args = controlled._parser().parse_args(["--data_dir", "/tmp", "--target", target,
                                           "--adam", "torch"])
    assert controlled._check(args) is None
