"""Issue 13, class 10: --distribute multiworker for real, two worker processes on 127.0.0.1.

A malformed TF_CONFIG is one line (exit 2) before anything starts. Two CPU workers train the
reference configuration: the chief alone writes the run directory (the other worker's scratch
folder is removed when it ends), a worker killed in epoch 2 makes the chief stop with one line
(exit 1) naming the resume command, and both workers resumed from the chief's run finish it
with the metrics of the single-device run (same global batch: within float summation order;
stated tolerance: losses 1e-3, accuracies 0.5 points, remaining weights 0.1 %).
"""

import json
import signal
import socket
import time

import pytest
from safety_support import RUN_ARGS, cli, metrics_of, one_line, run_dir_of

from masktrainer.cli import main

TF_CONFIGS = {
    "not-json": ("{", "TF_CONFIG is not valid JSON"),
    "not-an-object": ("[1, 2]", "TF_CONFIG must be a JSON object"),
    "address-without-port": ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", '
                             '"index": 0}}', "lists of 'host:port'"),
    "index-out-of-range": ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", '
                           '"index": 5}}', "task index 5 is not a task of job 'worker'"),
    "index-a-string": ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", '
                       '"index": "0"}}', "task index '0' is not a task"),
    "unknown-task-type": ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "ps"}}',
                          "task type 'ps' is not a job of the cluster"),
    "missing": (None, "needs the TF_CONFIG environment variable"),
}


@pytest.mark.parametrize("spec,message", list(TF_CONFIGS.values()), ids=list(TF_CONFIGS))
def test_a_malformed_tf_config_is_one_line_before_anything_starts(tmp_path, capsys,
                                                                  monkeypatch, spec, message):
    if spec is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", spec)
    assert main(["prog", "--distribute=multiworker", f"--outputpath={tmp_path}"]) == 2
    assert message in one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _workers(args: list[str], scratch) -> list:
    """Two worker processes (index 0 is the chief) on free ports of 127.0.0.1."""
    hosts = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    scratch.mkdir()
    processes = []
    for index in range(2):
        spec = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
        processes.append(cli(args, env={"TF_CONFIG": json.dumps(spec), "TMPDIR": str(scratch)}))
    return processes


def _finish(process, timeout=600):
    try:
        _, err = process.communicate(timeout=timeout)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    return process.returncode, err


def _close(values_a, values_b, tolerance):
    return all(abs(a - b) <= tolerance for a, b in zip(values_a, values_b, strict=True))


def test_two_workers_match_one_device_only_the_chief_writes_and_a_lost_worker_resumes(
        tmp_path, reference_run):
    out = tmp_path / "out"
    args = [*RUN_ARGS, "--distribute=multiworker", f"--outputpath={out}"]
    chief, other = _workers(args, tmp_path / "scratch-1")
    try:
        state, deadline = None, time.time() + 600
        while time.time() < deadline and chief.poll() is None:  # until epoch 1 is checkpointed
            try:
                found = list(out.rglob("resume.json"))
                state = json.loads(found[0].read_text()) if found else None
            except (ValueError, FileNotFoundError):  # TF's ckpt-N_temp folder went mid-scan
                state = None
            if state and state["epoch"] >= 1:
                break
            time.sleep(0.05)
        assert chief.poll() is None, _finish(chief)[1][-3000:]
        other.send_signal(signal.SIGKILL)
        code, err = _finish(chief)
    finally:
        other.kill()
        other.wait(timeout=60)
    run = run_dir_of(out)
    assert code == 1, err[-3000:]
    line = one_line(err)
    assert "a worker of the multi-worker run failed or became unreachable" in line
    assert line.endswith(f"resume with: python -m masktrainer --resume {run} on every worker "
                         "(same TF_CONFIG)")
    assert metrics_of(run)["status"] == "running"

    scratch = tmp_path / "scratch-2"
    results = [_finish(p) for p in _workers(["--resume", str(run), "--progress=none"], scratch)]
    assert [code for code, _ in results] == [0, 0], results[0][1][-3000:] + results[1][1][-3000:]
    assert run_dir_of(out) == run  # the only run directory: the chief's
    assert list(scratch.iterdir()) == []  # the other worker's scratch copy is gone
    got, want = metrics_of(run), metrics_of(reference_run)
    assert got["status"] == "complete"
    assert json.loads((run / "config.json").read_text())["distribute"] == "multiworker"
    for key in ("trainLoss", "valLoss", "testLoss"):
        assert _close(got[key], want[key], 1e-3), (key, got[key], want[key])
    for key in ("trainAccuracy", "valAccuracy", "testAccuracy"):
        assert _close(got[key], want[key], 0.005), (key, got[key], want[key])
    assert _close(got["remainingWeights"], want["remainingWeights"], 0.001 * 266_200)
