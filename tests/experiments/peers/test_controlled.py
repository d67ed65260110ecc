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


def _init_from_run(tmp_path, name: str, shape: tuple[int, int]):
    from masktrainer import layout

    run = tmp_path / name
    run.mkdir()
    np.savez(run / layout.INITIAL_WEIGHTS_FILE, kernel=np.zeros(shape, np.float32))
    return run


def test_init_from_is_loaded_and_shape_checked_before_any_data_is_read(tmp_path, capsys):
    pytest.importorskip("torch")
    from masktrainer import layout

    wrong = _init_from_run(tmp_path, "run-f2", (784, 128))
    damaged = tmp_path / "run-damaged"
    damaged.mkdir()
    (damaged / layout.INITIAL_WEIGHTS_FILE).write_bytes(b"PK\x03\x04 not a zip archive")
    cases = [(str(wrong), "shapes"), (str(damaged), "--init_from"),
             (str(tmp_path / "missing"), "--init_from"), ("run\n2", "must not contain")]
    for init_from, message in cases:
        with pytest.raises(SystemExit) as stop:  # /nonexistent: the data is never reached
            controlled.main(["--data_dir", "/nonexistent", "--target", "C1",
                             "--init_from", init_from])
        assert stop.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert message in err[-1] and "Traceback" not in "".join(err)
    good = _init_from_run(tmp_path, "run-f1", (784, 10))
    args = controlled._parser().parse_args(["--data_dir", "/tmp", "--target", "C1",
                                           "--init_from", str(good)])
    assert controlled._check(args) is None and args.init_kernels[0].shape == (784, 10)


def test_the_source_runs_name_goes_into_the_report(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    import json

    from experiments.peers import torch_laperm

    monkeypatch.setattr(torch_laperm, "mnist_sets", lambda _: {})
    monkeypatch.setattr(torch_laperm, "train_seed", lambda *a, **k: {
        "best_notebook": 80.0, "best_epoch": 80.0})
    out = tmp_path / "out"
    for name in ("run-a", "run-b"):
        run = _init_from_run(tmp_path, name, (784, 10))
        args = controlled._parser().parse_args(["--data_dir", "/tmp", "--target", "C1",
                                               "--init_from", str(run), "--out", str(out)])
        assert controlled._check(args) is None
        assert torch_laperm.run(args, "test") == 0
    reports = sorted(p.name for p in out.iterdir())
    assert reports == ["controlled_C1_init_from_run-a.json", "controlled_C1_init_from_run-b.json"]
    report = json.loads((out / reports[1]).read_text())
    assert report["init_from_run"] == "run-b" and report["adam"] == "keras"
