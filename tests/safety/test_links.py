"""Issue 13, class 1: never write outside the run, never through a link.

A planted link named like the old fixed temporary files, a link or hard link in place of a
run file, a run directory holding links, a linked export folder: the library either writes
its own file beside them or refuses with one line; the file a link points at never changes.
"""

import json
import os
import shutil

import keras
import numpy as np
import pytest
from safety_support import RUN_ARGS, VICTIM, export_cli, one_line, snapshot

from masktrainer.cli import main
from masktrainer.errors import RunStateError
from masktrainer.run.checkpoints import RunCheckpoint
from masktrainer.run.resume import ResumePoint
from masktrainer.run.rundir import RunDirectory


@pytest.fixture()
def run(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    return RunDirectory(folder, echo=None)


def _metrics():
    return {"trainLoss": [1.0], "epochSeconds": [0.1], "layer_names": [], "status": "running"}


def _tiny_checkpoint(folder):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse")
    return RunCheckpoint(folder, model)


WRITES = {
    "metrics.json.tmp": lambda run: run.write_metrics(_metrics(), ("trainLoss",), {}),
    "metrics.csv.tmp": lambda run: run.write_metrics(_metrics(), ("trainLoss",), {}),
    "initial_weights.npz.tmp.npz": lambda run: run.save_arrays("initial_weights.npz",
                                                               {"w": np.ones(3)}),
    "checkpoint/resume.json.tmp": lambda run: _tiny_checkpoint(run.path).record(
        ResumePoint(0, None)),
}


@pytest.mark.parametrize("planted", list(WRITES))
def test_a_link_at_the_old_temporary_name_is_never_written_through(run, victim, planted):
    link = run.path / planted
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(victim)
    WRITES[planted](run)
    assert victim.read_bytes() == VICTIM
    assert link.is_symlink()  # left alone; the library wrote a file of its own
    target = run.path / planted.split(".tmp")[0]
    assert target.is_file() and not target.is_symlink()
    assert not [p for p in run.path.rglob(".*.tmp*")]  # no temporary file left behind


def test_a_run_file_that_is_a_link_is_refused(run, victim):
    (run.path / "metrics.json").symlink_to(victim)
    with pytest.raises(RunStateError, match="metrics.json is a link"):
        run.write_json("metrics.json", {"status": "running"})
    assert victim.read_bytes() == VICTIM


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_the_log_is_never_appended_through_a_link(run, victim, kind):
    log = run.path / "train.log"
    log.symlink_to(victim) if kind == "symlink" else os.link(victim, log)
    with pytest.raises(RunStateError, match="train.log"):
        run.log("epoch 1")
    assert victim.read_bytes() == VICTIM


def test_a_linked_checkpoint_folder_is_refused(run, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (run.path / "checkpoint").symlink_to(elsewhere)
    with pytest.raises(RunStateError, match="is a link"):
        _tiny_checkpoint(run.path).record(ResumePoint(0, None))
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("name", ["config.json", "checkpoint", "train.log", "tensorboard"])
def test_resume_refuses_a_run_directory_holding_links(stopped, tmp_path, capsys, name):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    source = stopped / name
    if source.exists():
        shutil.move(source, elsewhere / name)
    else:
        (elsewhere / name).mkdir()
    (stopped / name).symlink_to(elsewhere / name)
    before = snapshot(tmp_path)
    assert main(["prog", "--resume", str(stopped)]) == 2
    assert f"{stopped / name} is a link" in one_line(capsys.readouterr().err)
    assert snapshot(tmp_path) == before


@pytest.fixture()
def finished(reference_run, tmp_path):
    target = tmp_path / "runs" / "run-finished"
    shutil.copytree(reference_run, target)
    return target


def test_export_refuses_a_linked_export_folder(finished, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (finished / "export").symlink_to(elsewhere)
    code, err = export_cli(capsys, finished)
    assert code == 2 and "is a link" in one_line(err)
    assert list(elsewhere.iterdir()) == []


def test_export_refuses_an_out_folder_that_is_a_link(finished, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    code, err = export_cli(capsys, finished, "--out", tmp_path / "out")
    assert code == 2 and "is a link; give the real folder" in one_line(err)
    assert list(elsewhere.iterdir()) == []


def test_export_refuses_a_run_whose_model_is_a_link(finished, tmp_path, capsys):
    moved = tmp_path / "model-elsewhere.keras"
    shutil.move(finished / "model.keras", moved)
    (finished / "model.keras").symlink_to(moved)
    before = snapshot(tmp_path)
    code, err = export_cli(capsys, finished, "--out", tmp_path / "out")
    assert code == 2 and "model.keras is a link" in one_line(err)
    assert snapshot(tmp_path) == before


def test_overwrite_never_replaces_through_a_linked_file(finished, victim, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "compact.npz").symlink_to(victim)
    code, err = export_cli(capsys, finished, "--out", out, "--formats", "compact", "--overwrite")
    assert code == 2 and "compact.npz is a link" in one_line(err)
    assert victim.read_bytes() == VICTIM
    assert json.loads((finished / "metrics.json").read_text())["status"] == "complete"


@pytest.mark.parametrize("swap", ["parent_link", "parent_folder", "run_link"])
def test_a_run_folder_swapped_mid_run_stops_its_writes(tmp_path, swap):
    parent = tmp_path / "out" / "LeNet"
    parent.mkdir(parents=True)
    run = RunDirectory.create(parent, echo=None)
    run.write_json("config.json", {"a": 1})
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / run.path.name).mkdir(parents=True)
    if swap == "run_link":
        run.path.rename(tmp_path / "kept")
        run.path.symlink_to(elsewhere / run.path.name)
    else:
        parent.rename(tmp_path / "kept")
        if swap == "parent_link":
            parent.symlink_to(elsewhere)
        else:  # a fresh folder of the same names: another inode
            (parent / run.path.name).mkdir(parents=True)
    for write in (lambda: run.write_json("metrics.json", {}), lambda: run.log("line"),
                  lambda: run.save_arrays("masks.npz", {"m": np.ones(2)}),
                  lambda: run.write_metrics(_metrics(), ("trainLoss",), {})):
        with pytest.raises(RunStateError, match="no longer leads to this run's folder"):
            write()
    assert not any((elsewhere / run.path.name).iterdir())
    if swap == "parent_folder":
        assert not any((parent / run.path.name).iterdir())
    kept = tmp_path / "kept" if swap == "run_link" else tmp_path / "kept" / run.path.name
    assert sorted(p.name for p in kept.iterdir()) == ["config.json"]  # the run's own, whole


def _trained_checkpoint(folder):
    checkpoint = _tiny_checkpoint(folder)
    model = checkpoint.checkpoint.model
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    return checkpoint, f"ckpt-{int(model.optimizer.iterations.numpy())}"


def _during_write(monkeypatch, checkpoint, action):
    """Run ``action()`` while TensorFlow writes the checkpoint's files (after every check);
    the list returned records that it ran."""
    cls, ran = type(checkpoint.checkpoint), []
    original = cls.write

    def write(self, prefix, *args, **kwargs):
        ran.append(action())
        return original(self, prefix, *args, **kwargs)

    monkeypatch.setattr(cls, "write", write)
    return ran


def test_a_link_at_a_checkpoint_file_name_is_refused_in_one_line(run, victim):
    checkpoint, name = _trained_checkpoint(run.path)
    (run.path / "checkpoint").mkdir()
    (run.path / "checkpoint" / f"{name}.index").symlink_to(victim)
    with pytest.raises(RunStateError, match="is a link") as err:
        checkpoint.save(1)
    assert "\n" not in str(err.value)
    assert victim.read_bytes() == VICTIM


def test_links_planted_while_a_checkpoint_is_written_are_replaced_never_followed(
        run, victim, monkeypatch):
    checkpoint, name = _trained_checkpoint(run.path)
    folder = run.path / "checkpoint"
    planted = [folder / f"{name}.index", folder / f"{name}.data-00000-of-00001"]
    ran = _during_write(monkeypatch, checkpoint, lambda: [p.symlink_to(victim) for p in planted])
    checkpoint.save(1)
    assert ran
    assert victim.read_bytes() == VICTIM
    assert all(p.is_file() and not p.is_symlink() for p in planted)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(p.name for p in planted),
                                                              "resume.json"])
    weights = [np.asarray(w).copy() for w in checkpoint.checkpoint.model.weights]
    for w in checkpoint.checkpoint.model.weights:
        w.assign(np.zeros(w.shape))
    checkpoint.restore(ResumePoint(1, name))  # the checkpoint itself is whole
    for want, w in zip(weights, checkpoint.checkpoint.model.weights):
        np.testing.assert_array_equal(np.asarray(w), want)


def test_a_checkpoint_folder_swapped_for_a_link_mid_save_writes_nothing_through_it(
        run, tmp_path, monkeypatch):
    checkpoint, name = _trained_checkpoint(run.path)
    checkpoint.record(ResumePoint(0, None))
    elsewhere, kept = tmp_path / "elsewhere", tmp_path / "kept"
    elsewhere.mkdir()

    def swap():
        (run.path / "checkpoint").rename(kept)
        (run.path / "checkpoint").symlink_to(elsewhere)

    ran = _during_write(monkeypatch, checkpoint, swap)
    with pytest.raises(RunStateError, match="checkpoint is a link") as err:
        checkpoint.save(1)
    assert "\n" not in str(err.value)
    assert ran and list(elsewhere.iterdir()) == []
    # the files went to the folder the run had open (moved aside), never through the link
    assert not [p for p in kept.iterdir() if p.name.startswith(".staging-")]


def test_a_checkpoint_folder_swapped_for_a_link_between_saves_stops_the_run(
        tmp_path, capsys, monkeypatch):
    original, calls = RunCheckpoint.save, []
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def save(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second checkpoint: after step 5, the first one kept
            self.folder.rename(tmp_path / "kept")
            self.folder.symlink_to(elsewhere)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RunCheckpoint, "save", save)
    out = tmp_path / "out"
    assert main(["prog", *RUN_ARGS, f"--outputpath={out}"]) != 0
    assert "checkpoint is a link" in one_line(capsys.readouterr().err)
    assert list(elsewhere.iterdir()) == []
