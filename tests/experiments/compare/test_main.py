"""The head-to-head comparison: suites name real presets and flags, and a tiny suite runs
end to end (real training, export, table, figure) and is reused when run again."""

import csv

import pytest

from experiments.compare.__main__ import main, run_suite, write
from experiments.compare.suites import Entry, Suite
from experiments.crosscheck.runs import RunStore

TINY = ("--validation_size=59000", "--eval_batchsize=2000", "--batchsize=100")


def test_a_tiny_suite_runs_end_to_end_and_is_reused(tmp_path, shared_data_dir):
    suite = Suite("tiny", "LeNet on 1,000 MNIST images", 1, (
        Entry("edge-popup k 0.5", ("--traintype=EdgePopup", "--nettype=LeNet",
                                   "--keep_ratio=0.5", *TINY)),
        Entry("dense", ("--traintype=DenseBaseline", "--nettype=LeNet", *TINY)),
    ))
    lines = []
    rows = run_suite(suite, [1], 1, tmp_path, shared_data_dir, echo=lines.append)
    assert [row["method"] for row in rows] == ["edge-popup k 0.5", "dense"]
    edge, dense = rows
    assert edge["changed"] == "50.0 %" and dense["changed"] == "100.0 %"
    assert float(edge["accuracy"]) > 50 and edge["seeds"] == 1
    assert edge["compact_ratio"].startswith("1/") and float(edge["compact_ratio"][2:]) > 8
    files = write(suite, rows, 1, [1], tmp_path)
    table = files[0].read_text()
    assert "| edge-popup k 0.5 |" in table and "| dense |" in table
    assert files[2].stat().st_size > 10_000  # the figure
    parsed = list(csv.DictReader(files[1].open()))
    assert parsed[0]["method"] == "edge-popup k 0.5" and "--seed=1" in parsed[0]["commands"]
    # again: every run reused, nothing retrained
    calls = []
    store = RunStore(tmp_path, echo=lambda _: None,
                     trainer=lambda *a, **k: calls.append(a) or pytest.fail("retrained"))
    again = run_suite(suite, [1], 1, tmp_path, shared_data_dir, store=store, echo=lines.append)
    assert [r["accuracy"] for r in again] == [r["accuracy"] for r in rows] and not calls
    # another precision is another configuration: its own runs, table and figure
    (bf16,) = run_suite(suite, [1], 1, tmp_path, shared_data_dir, ["edge-popup k 0.5"],
                        echo=lines.append, precision="mixed_bfloat16")
    assert "--precision=mixed_bfloat16" in bf16["commands"] and float(bf16["accuracy"]) > 50
    files = write(suite, [bf16], 1, [1], tmp_path, "mixed_bfloat16")
    assert files[0].name == "compare_tiny_mixed_bfloat16.md"
    assert "precision mixed_bfloat16" in files[0].read_text().splitlines()[0]


@pytest.mark.parametrize("args,message", [
    (["--seeds", "0"], "--seeds"), (["--epochs", "0"], "--epochs"),
    (["--methods", "nope"], "unknown nope"), (["--methods", ""], "none empty"),
    (["--methods", "FreePruning,"], "none empty"),
    (["--data_dir", "/nonexistent"], "not a directory")])
def test_cli_errors_are_one_line(args, message, tmp_path, capsys):
    assert main([*args, "--outputpath", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_a_signal_stops_with_one_line_and_exit_3(tmp_path, capsys, monkeypatch):
    from experiments.compare import __main__ as compare
    from masktrainer.errors import RunInterrupted

    def interrupted(*args, **kwargs):
        raise RunInterrupted("interrupted by SIGTERM in epoch 2 after step 7 (checkpointed)", 15)

    monkeypatch.setattr(compare, "run_suite", interrupted)
    assert main(["--outputpath", str(tmp_path / "o")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run the same command again" in err[0]
