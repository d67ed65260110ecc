"""Honest console lines: Min* runs show the cross-entropy and the penalty apart (the sum
keeps the original's key), flip runs the flipped fraction, a whole-run ETA, and a heartbeat
inside long epochs of non-terminal logs."""

import pytest
from run_support import random_splits as _data

from masktrainer.config import RunConfig
from masktrainer.run.console import (
    TERMINAL_WIDTH,
    Heartbeat,
    RunClock,
    duration,
    final_lines,
    short_line,
)
from masktrainer.run.trainer import train


def _run(tmp_path, **options):
    """The run's metrics, the heartbeats printed and the train.log lines (whole epoch
    lines), after checking that the console had the same lines, cut to 100 columns."""
    printed = []
    cfg = RunConfig(**{"maxepochs": 2, "batchsize": 50, "seed": 3, "outputpath": str(tmp_path),
                       "progress": "none", "tensorboard": False, **options})
    result = train(cfg, data=_data(), echo=printed.append)
    logged = (result.run_dir / "train.log").read_text().splitlines()
    heartbeats = [line for line in printed if line.startswith("  ")]  # console only
    printed = [line for line in printed if not line.startswith("  ")]
    assert len(printed) == len(logged)
    for shown, whole in zip(printed, logged):
        if whole.startswith("epoch "):
            assert len(shown) <= TERMINAL_WIDTH and shown == short_line(whole)
            assert shown.split(" | ")[0] == whole.split(" | ")[0]
        else:
            assert shown == whole
    return result.metrics, heartbeats + logged


def test_min_runs_report_cross_entropy_and_penalty_apart(tmp_path):
    metrics, lines = _run(tmp_path, traintype="MinFlipping")
    for prefix in ("train", "val", "test"):
        ce = [v for v in metrics[f"{prefix}CrossEntropy"] if v is not None]
        assert ce and min(ce) >= 0.0
    assert all(p < 0 for p in metrics["penalty"])  # alpha * -mean(M), per layer, summed
    for epoch in range(3):  # the original's keys stay the sum
        total = metrics["testCrossEntropy"][epoch] + metrics["penalty"][epoch]
        assert metrics["testLoss"][epoch] == pytest.approx(total, rel=1e-4, abs=1e-4)
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert all("test CE " in line and "penalty -" in line for line in epoch_lines)
    assert all("test loss" not in line for line in epoch_lines)
    assert "flipped " in epoch_lines[-1] and "remaining" not in epoch_lines[-1]
    assert lines[-1].startswith("done:") and "flipped " in lines[-1]
    assert "sum over the 3 masked layers of alpha * mean(M) with alpha -1 (-3 while every " \
        "mask is 1)" in "\n".join(lines)
    assert sum(line.startswith("masks -/0/+: ") for line in lines) == 1  # explained once
    assert "a negative mask flips its weight" in "\n".join(lines)


def test_a_long_epoch_line_keeps_the_epoch_accuracies_and_times_on_the_console():
    line = ("epoch  12/20 | train CE 2.4402 acc 11.33% | val CE 2.5882 acc 8.00% | test CE "
            "2.4880 acc 10.00% | penalty -3.0000 | flipped 0.00% (0/266,200) | masks -/0/+ "
            "0.00%/0.00%/100.00% | weights -/0/+ 50.02%/0.00%/49.98% | 3.8s | ETA 4m05s")
    assert short_line(line) == ("epoch  12/20 | train 11.33% | val 8.00% | test 10.00% | "
                                "penalty -3.0000 | … | 3.8s | ETA 4m05s")
    assert short_line("epoch   1/2 | test loss 2.3 acc 9.00% | 0.1s") == \
        "epoch   1/2 | test loss 2.3 acc 9.00% | 0.1s"  # short lines stay whole


def test_the_done_line_gives_the_total_time():
    metrics = {"testAccuracy": [0.1, 0.9], "epochSeconds": [2.0, 123.0]}
    assert final_lines(metrics, None, "", "RUN")[-1] == \
        "done: test accuracy 90.00%; total 2m05s; results in RUN"


def test_the_done_line_names_the_last_epoch_when_another_epoch_is_reported():
    # The reported figure is the test accuracy at the best-validation epoch; the done line's
    # numbers are the last epoch's and must not read as the reported ones.
    metrics = {"testAccuracy": [0.1, 0.7107, 0.7126], "valAccuracy": [0.1, 0.7128, 0.711],
               "epochSeconds": [1.0, 2.0, 3.0]}
    best = {"epoch": 1, "selected_on": "val", "valAccuracy": 0.7128, "testAccuracy": 0.7107,
            "protocol": "held_out"}
    report, done = final_lines(metrics, best, "", "RUN")
    assert "test there 71.07%" in report and "[held_out protocol" in report
    assert done.startswith("done: last epoch's test accuracy 71.26%, val accuracy 71.10%;")


def test_free_runs_keep_one_loss_and_print_remaining_and_an_eta(tmp_path):
    metrics, lines = _run(tmp_path, traintype="FreePruning")
    assert "penalty" not in metrics and "testCrossEntropy" not in metrics
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert "remaining " in epoch_lines[1] and "test loss " in epoch_lines[1]
    assert "| ETA " in epoch_lines[1] and "ETA" not in epoch_lines[2]  # nothing left at the end


def test_heartbeat_with_a_fake_clock():
    now, lines = [100.0], []
    beat = Heartbeat(2.0, lines.append, epoch=3, maxepochs=9, steps=1000, done=100,
                     clock=lambda: now[0])
    beat.on_train_batch_end(0, {"loss": 1.5})
    assert lines == []  # not due yet
    now[0] += 121.0
    beat.on_train_batch_end(199, {"loss": 0.25})  # step 300 of 1000, 200 done in 121 s
    assert lines == ["  epoch 3/9: step 300/1000 (30.00%), loss 0.2500, 2m01s into the epoch, "
                     "about 7m04s to its end"]
    beat.on_train_batch_end(200, {"loss": 0.2})
    assert len(lines) == 1  # the next one is 2 minutes later
    now[0] += 120.0
    beat.phase = "evaluating test"
    beat.on_test_batch_end(4)
    assert lines[-1] == "  epoch 3/9: evaluating test, batch 5, 4m01s into the epoch"
    silent = Heartbeat(0.0, lines.append, 1, 1, 10, clock=lambda: now[0])
    now[0] += 1e6
    silent.on_train_batch_end(0)
    assert len(lines) == 2  # --heartbeat_minutes 0: none


def test_a_log_file_gets_heartbeats_a_terminal_does_not(tmp_path):
    _, lines = _run(tmp_path, traintype="FreePruning", heartbeat_minutes=1e-6, maxepochs=1)
    assert any(line.startswith("  epoch 0/1: evaluating train") for line in lines)  # "full"
    assert any(line.startswith("  epoch 1/1: step ") for line in lines)
    assert any(line.startswith("  epoch 1/1: evaluating ") for line in lines)


def test_eta_and_durations():
    clock = RunClock()
    assert clock.eta(5) is None
    clock.add(10.0)
    clock.add(20.0)
    assert clock.eta(4) == 60.0 and clock.eta(0) is None
    assert [duration(s) for s in (5, 65, 7322)] == ["5s", "1m05s", "2h02m"]
