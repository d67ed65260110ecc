"""Issue 21, class 2: exclusivity is atomic. Two exports into one --out never both succeed
silently (the second is refused under the folder's lock, or finds the first's files when it
takes the lock); two sweeps never train one member twice (a member is decided again, and
trained, under its claim)."""

import json
import shutil

import pytest
from safety_support import RUN_ARGS, export_cli, metrics_of, one_line, snapshot

import masktrainer.export.cli as export_cli_module
from masktrainer import cli, methods, sweep
from masktrainer.cli import main
from masktrainer.errors import FAILED_EXIT
from masktrainer.execute import run_sweep
from masktrainer.run.lock import RunLock


@pytest.fixture()
def run(reference_run, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(reference_run, target)
    return target


def test_an_export_into_a_folder_another_export_holds_is_refused(run, tmp_path, capsys):
    out = tmp_path / "export"
    out.mkdir()
    (out / "plain.keras").write_bytes(b"the other export, half way")
    other = RunLock()
    other.acquire(out)  # the other export's lock
    try:
        before = snapshot(tmp_path)
        code, err = export_cli(capsys, run, "--out", out, "--overwrite")
    finally:
        other.release()
    assert code == 2
    assert one_line(err) == (f"masktrainer: error: another export is writing into {out}; "
                             "wait for it to finish")
    assert snapshot(tmp_path) == before


def test_an_export_that_finished_meanwhile_is_never_replaced(run, tmp_path, capsys, monkeypatch):
    out = tmp_path / "export"
    original = export_cli_module.load_run_model

    def load_while_another_export_finishes(path):
        model = original(path)
        out.mkdir()
        (out / "plain.keras").write_bytes(b"the other export")
        (out / "compact.npz").write_bytes(b"the other export")
        return model

    monkeypatch.setattr(export_cli_module, "load_run_model", load_while_another_export_finishes)
    code, err = export_cli(capsys, run, "--out", out)
    assert code == 2
    assert "already holds plain.keras, compact.npz" in one_line(err)
    assert (out / "plain.keras").read_bytes() == b"the other export"
    assert sorted(p.name for p in out.iterdir()) == ["compact.npz", "plain.keras"]


def _sweep_args(out):
    return ["prog", *[a for a in RUN_ARGS if not a.startswith("--seed=")], "--seeds=5",
            f"--outputpath={out}"]


def test_a_member_another_sweep_holds_is_skipped_not_trained_twice(tmp_path, capsys):
    out = tmp_path / "Outputs"
    plan = cli.parse_commands(_sweep_args(out))
    held = sweep.claim(plan.commands[0].cfg)  # the other sweep, training this member
    try:
        capsys.readouterr()
        assert main(_sweep_args(out)) == FAILED_EXIT  # not finished: never "done"
    finally:
        held.release()
    text = capsys.readouterr()
    assert "sweep 1/1 (seed 5): being trained by another sweep; skipped" in text.out
    assert "sweep done" not in text.out
    assert one_line(text.err, "masktrainer: sweep not done: ") == (
        "masktrainer: sweep not done: 1 of 1 run(s) not finished (seed 5: still being trained by another process); run the "
        "same command again to continue")
    assert not list(out.rglob("config.json"))


def test_a_member_whose_holder_died_is_not_counted_as_done(tmp_path, capsys, monkeypatch):
    out = tmp_path / "Outputs"
    held = sweep.claim(cli.parse_commands(_sweep_args(out)).commands[0].cfg)
    real = sweep.unfinished

    def holder_dies(cfg):  # as kill -9 of the other sweep: the OS drops its claim
        held.release()
        return real(cfg)

    monkeypatch.setattr(sweep, "unfinished", holder_dies)
    capsys.readouterr()
    assert main(_sweep_args(out)) == FAILED_EXIT
    text = capsys.readouterr()
    assert "sweep done" not in text.out
    assert "sweep not done: 1 of 1 run(s) not finished (seed 5: not started" in one_line(
        text.err, "masktrainer: sweep not done: ")


def test_a_run_left_running_by_a_dead_process_is_reported_not_done(tmp_path, reference_run,
                                                                    capsys, monkeypatch):
    out = tmp_path / "Outputs"
    cfg = cli.parse_commands(_sweep_args(out)).commands[0].cfg
    dead = methods.method_of(cfg).recipe.run_folder(cfg) / "run-dead"
    shutil.copytree(reference_run, dead)
    metrics = metrics_of(dead)
    metrics["status"] = "running"
    (dead / "metrics.json").write_text(json.dumps(metrics))
    lock = RunLock()  # the other process, training it when the plan is made
    lock.acquire(dead)
    real = sweep.unfinished

    def holder_dies(cfg):
        lock.release()
        return real(cfg)

    monkeypatch.setattr(sweep, "unfinished", holder_dies)
    before = snapshot(out)
    capsys.readouterr()
    assert main(_sweep_args(out)) == FAILED_EXIT
    text = capsys.readouterr()
    assert f"being trained by another process in {dead}; skipped" in text.out
    assert "sweep done" not in text.out
    err = one_line(text.err, "masktrainer: sweep not done: ")
    assert err.startswith("masktrainer: sweep not done: 1 of 1 run(s) not finished (seed 5: ")
    assert str(dead) in err
    assert {k: v for k, v in snapshot(out).items() if ".sweep-" not in k} == before


def test_a_member_finished_by_another_sweep_after_the_plan_is_skipped(tmp_path, reference_run,
                                                                      capsys):
    out = tmp_path / "Outputs"
    plan = cli.parse_commands(_sweep_args(out))
    assert not plan.commands[0].skip  # nothing there when the plan was made
    cfg = plan.commands[0].cfg
    done = methods.method_of(cfg).recipe.run_folder(cfg) / "run-other"
    shutil.copytree(reference_run, done)  # the other sweep finished it meanwhile
    before = snapshot(out)
    capsys.readouterr()
    assert run_sweep(plan.commands, cli._decided_again) == 0
    assert f"sweep 1/1 (seed 5): complete in {done}; skipped" in capsys.readouterr().out
    assert {k: v for k, v in snapshot(out).items() if ".sweep-" not in k} == before
    assert len(list(out.rglob("config.json"))) == 1


def test_a_claim_is_exclusive_and_released(tmp_path):
    cfg = cli.parse_commands(_sweep_args(tmp_path / "Outputs")).commands[0].cfg
    first = sweep.claim(cfg)
    assert first is not None
    assert sweep.claim(cfg) is None
    first.release()
    again = sweep.claim(cfg)
    assert again is not None
    again.release()
