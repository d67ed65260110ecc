"""Issue 13, class 2: --resume trusts nothing it reads.

Every case either refuses (exit 2, one line, the run directory and everything around it
unchanged) or continues bit for bit like the uninterrupted reference run.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
from safety_support import (
    PACKAGE_ROOT,
    TF_NOISE,
    assert_same_run,
    metrics_of,
    one_line,
    snapshot,
)

from masktrainer.cli import main
from masktrainer.run.lock import RunLock


def _state(run):
    return json.loads((run / "checkpoint" / "resume.json").read_text())


def _write_state(run, state):
    (run / "checkpoint" / "resume.json").write_text(json.dumps(state))


def _edit_json(run, name, change):
    path = run / name
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))


def _refused(run, capsys, *extra) -> str:
    """Resume must exit 2 with one line and change nothing in or around the run."""
    before = snapshot(run.parent.parent)
    capsys.readouterr()
    assert main(["prog", "--resume", str(run), *extra]) == 2
    line = one_line(capsys.readouterr().err)
    assert snapshot(run.parent.parent) == before
    return line


def _state_edits():
    def point(**fields):
        return lambda s: s.update(fields)

    def partial(**fields):
        return lambda s: s.update(partial={"epoch": 2, "step": 4, "metric_state": [[1.0], [2.0]],
                                           **fields})

    return {
        "checkpoint-in-another-run": (point(checkpoint="../../other/checkpoint/ckpt-10"),
                                      "must be a checkpoint name"),
        "checkpoint-absolute-path": (point(checkpoint="/tmp/ckpt-10"), "must be a checkpoint name"),
        "checkpoint-not-a-string": (point(checkpoint=10), "must be a checkpoint name"),
        "checkpoint-that-does-not-exist": (point(checkpoint="ckpt-999"), "are missing in"),
        "epoch-999": (point(epoch=999), "'epoch' must be an integer in [0, 2]"),
        "epoch-negative": (point(epoch=-1), "'epoch' must be an integer in [0, 2]"),
        "epoch-true": (point(epoch=True), "'epoch' must be an integer"),
        "epoch-string": (point(epoch="2"), "'epoch' must be an integer"),
        "epoch-beyond-recorded-metrics": (point(epoch=2), "records only 1 epoch(s)"),
        "unknown-field": (point(extra=1), "unknown field(s): extra"),
        "no-checkpoint-after-epoch-0": (point(checkpoint=None), "names no checkpoint"),
        "partial-of-wrong-epoch": (partial(epoch=5),
                                   "partial 'epoch' must be an integer in [2, 2]"),
        "partial-step-zero": (partial(step=0), "partial 'step' must be an integer >= 1"),
        "partial-metric-state-not-numbers": (partial(metric_state=[["x"]]),
                                             "must be a list of lists of finite numbers"),
        "partial-seconds-negative": (partial(seconds=-1.0),
                                     "partial 'seconds' must be a finite number ≥ 0"),
        "partial-seconds-string": (partial(seconds="12"),
                                   "partial 'seconds' must be a finite number ≥ 0"),
        "partial-missing-fields": (lambda s: s.update(partial={"epoch": 3}),
                                   "must hold epoch, step, metric_state and optionally seconds"),
    }


@pytest.mark.parametrize("edit,message", list(_state_edits().values()), ids=list(_state_edits()))
def test_resume_json_fields_are_checked(stopped, capsys, edit, message):
    state = _state(stopped)
    edit(state)
    _write_state(stopped, state)
    assert message in _refused(stopped, capsys)


@pytest.mark.parametrize("name,content,message", [
    ("config.json", "{not json", "not a readable run directory"),
    ("config.json", "[1, 2]", "must hold a JSON object"),
    ("metrics.json", "\x00\xff garbage", "not a readable run directory"),
    ("checkpoint/resume.json", "", "is not valid JSON"),
    ("checkpoint/resume.json", "[]", "must hold a JSON object"),
], ids=["config-garbage", "config-list", "metrics-garbage", "resume-empty", "resume-list"])
def test_malformed_state_files_are_refused(stopped, capsys, name, content, message):
    (stopped / name).write_text(content)
    assert message in _refused(stopped, capsys)


@pytest.mark.parametrize("field,value,message", [
    ("maxepochs", True, "'maxepochs' must be an integer"),
    ("lr", "0.1", "--lr must be a finite number > 0"),
    ("traintype", ["FreePruning"], "--traintype must be a string"),
    ("resolved_seed", "5", "'resolved_seed' must be an integer"),
    ("surprise", 1, "unknown config field(s): surprise"),
])
def test_edited_config_values_are_refused(stopped, capsys, field, value, message):
    _edit_json(stopped, "config.json", lambda c: c.update({field: value}))
    assert message in _refused(stopped, capsys)


@pytest.mark.parametrize("change,message", [
    (lambda m: m.update(status="complete"), "already complete"),
    (lambda m: m.update(status=7), "'status' must be one of"),
    (lambda m: m.update(epochs_completed=True), "'epochs_completed' must be an integer"),
    (lambda m: m["testAccuracy"].pop(), "'testAccuracy' has 1 values for 1 epochs"),
], ids=["complete", "status-number", "epochs-true", "short-series"])
def test_edited_metrics_are_refused(stopped, capsys, change, message):
    _edit_json(stopped, "metrics.json", change)
    assert message in _refused(stopped, capsys)


def _one_more_epoch(metrics):
    for key, value in metrics.items():
        if isinstance(value, list) and key not in ("layer_names", "layer_sizes"):
            value.append(value[-1])
    metrics["epochs_completed"] += 1


def test_more_recorded_epochs_than_the_checkpoint_are_never_discarded(stopped, capsys):
    _edit_json(stopped, "metrics.json", _one_more_epoch)  # 2 epochs recorded
    _write_state(stopped, {"epoch": 0, "checkpoint": None})  # as at the start of the run
    assert "refusing to discard recorded epochs" in _refused(stopped, capsys)


def test_missing_resume_json_never_restarts_over_recorded_epochs(stopped, capsys):
    (stopped / "checkpoint" / "resume.json").unlink()
    line = _refused(stopped, capsys)
    assert "missing" in line and "refusing to restart it from epoch 0" in line


def test_empty_resume_value_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a fresh run would go (Outputs/)
    assert main(["prog", "--resume="]) == 2
    assert "--resume needs the run directory" in one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []  # no fresh run was started


def test_resume_checkpoint_needs_resume_and_a_kept_name(stopped, capsys):
    assert main(["prog", "--resume_checkpoint", "ckpt-10"]) == 2
    assert "applies to --resume only" in one_line(capsys.readouterr().err)
    assert "kept: ckpt-10, ckpt-5" in _refused(stopped, capsys, "--resume_checkpoint", "ckpt-7")


def test_state_file_that_is_a_fifo_is_refused_without_blocking(stopped, capsys):
    path = stopped / "checkpoint" / "resume.json"
    path.unlink()
    os.mkfifo(path)
    assert "is not a regular file" in _refused(stopped, capsys)


def test_oversized_metrics_file_is_refused_unread(stopped, capsys):
    with open(stopped / "metrics.json", "r+b") as handle:
        handle.truncate(65 * 2**20)  # sparse: nothing is allocated
    assert "larger than" in _refused(stopped, capsys)


def test_a_run_locked_by_another_process_is_refused(stopped, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from masktrainer.run.lock import RunLock; "
         "RunLock().acquire(sys.argv[1]); print('locked', flush=True); time.sleep(600)",
         str(stopped)], env={**os.environ, "PYTHONPATH": PACKAGE_ROOT},
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert "being trained by another process" in _refused(stopped, capsys)
    finally:
        holder.kill()
        holder.wait(timeout=60)


def test_checkpoint_of_another_point_is_refused(stopped, capsys):
    state = _state(stopped)
    state["checkpoint"] = state["previous"]["checkpoint"]  # step 5's weights as epoch 1's
    _write_state(stopped, state)
    assert "it is not that point's checkpoint" in _refused(stopped, capsys)


def test_partial_step_beyond_the_epoch_is_refused(stopped, capsys):
    state = _state(stopped)
    state["partial"] = {"epoch": 2, "step": 10, "metric_state": [[0.0], [0.0]]}
    _write_state(stopped, state)
    assert "an epoch of this run has 10 steps" in _refused(stopped, capsys)


def _break(path, how):
    if how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    else:
        path.write_bytes(b"\x00garbage" * 100)


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_corrupt_last_checkpoint_names_the_previous_one_which_then_resumes_exactly(
        stopped, reference_run, capsys, how):
    state = _state(stopped)
    last, previous = state["checkpoint"], state["previous"]["checkpoint"]
    _break(next((stopped / "checkpoint").glob(f"{last}.data-*")), how)
    line = _refused(stopped, capsys)
    assert f"checkpoint {stopped / 'checkpoint' / last} cannot be restored" in line
    assert f"--resume {stopped} --resume_checkpoint {previous}" in line
    assert main(["prog", "--resume", str(stopped), "--resume_checkpoint", previous]) == 0
    assert_same_run(reference_run, stopped)


def test_a_checkpoint_damaged_inside_is_exactly_one_line_in_a_real_process(stopped):
    """Zeros inside the data file fail TensorFlow's checksum (DataLossError) part-way through
    the restore; the warnings TensorFlow logs when that restore's bookkeeping is collected
    ("being deleted with unrestored values") used to follow the one line."""
    data_file = next((stopped / "checkpoint").glob(f"{_state(stopped)['checkpoint']}.data-*"))
    data = bytearray(data_file.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    data_file.write_bytes(bytes(data))
    before = snapshot(stopped.parent.parent)
    result = subprocess.run([sys.executable, "-m", "masktrainer", "--resume", str(stopped)],
                            env={**os.environ, "PYTHONPATH": PACKAGE_ROOT}, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "cannot be restored (DataLossError)" in one_line(result.stderr)
    assert "WARNING" not in result.stderr.replace(TF_NOISE[0], ""), result.stderr
    assert snapshot(stopped.parent.parent) == before


def test_stopped_run_resumes_bit_for_bit(stopped, reference_run, capsys):
    before = metrics_of(stopped)
    assert main(["prog", "--resume", str(stopped)]) == 0
    after = metrics_of(stopped)
    assert after["testAccuracy"][:2] == before["testAccuracy"]  # recorded epochs kept
    assert_same_run(reference_run, stopped)
    lock = RunLock()
    lock.acquire(stopped)  # would raise if the finished run still held its lock
    lock.release()




@pytest.mark.parametrize("damage", ["empty", "garbled"])
def test_damaged_arrays_written_at_the_start_are_refused(stopped, capsys, damage):
    """The initial weights and the preprocessing are written once, when the run starts: a
    resume that ignored them finished as complete around a file that no longer loads."""
    for name in sorted(path.name for path in stopped.glob("*.npz")):
        run = stopped.parent / f"{name}-{damage}"
        shutil.copytree(stopped, run)
        data = bytearray((run / name).read_bytes())
        if damage == "empty":
            data = bytearray()
        else:  # inside the first member's data: the zip directory still reads, the CRC fails
            data[len(data) // 3: len(data) // 3 + 64] = bytes(64)
        (run / name).write_bytes(bytes(data))
        line = _refused(run, capsys)
        assert name in line and "is damaged" in line, line
    assert {path.name for path in stopped.glob("*.npz")} >= {"initial_weights.npz"}
