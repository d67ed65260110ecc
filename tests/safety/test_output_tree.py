"""Issue 21, class 1: every file a command writes goes through the safe writer, and every
folder below an output root is checked as it is created: a link planted in the output tree
(a figure, a summary, a folder on a new run's path) is refused in one line, and the file or
folder it points at never changes."""

import json
import os

import pytest
from safety_support import RUN_ARGS, one_line, snapshot

from masktrainer import safe_io
from masktrainer.cli import main
from masktrainer.errors import RunStateError
from masktrainer.run.rundir import RunDirectory
from plotting import plotter

SERIES = ("trainLoss", "valLoss", "testLoss", "trainAccuracy", "valAccuracy", "testAccuracy")


@pytest.fixture()
def runs(tmp_path):
    folder = tmp_path / "runs" / "run-good"
    folder.mkdir(parents=True)
    config = {"traintype": "FreePruning", "nettype": "LeNet", "seed": 1, "lr": 0.001}
    metrics = {"format_version": 1, "status": "complete", "epochs_completed": 2,
               **{key: [0.5, 0.6, 0.7] for key in SERIES}}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder.parent


@pytest.mark.parametrize("name", ["summary.md", "summary.csv", "accuracy_loss.png"])
def test_the_plotter_never_writes_through_a_planted_link(tmp_path, runs, victim, name, capsys):
    out = tmp_path / "figures"
    out.mkdir()
    (out / name).symlink_to(victim)
    before = snapshot(tmp_path / "outside")
    # Every output name is checked before the first is written: refused like bad input.
    assert plotter.main(["--runs", str(runs), "--out", str(out)]) == 2
    line = one_line(capsys.readouterr().err, "plotter: error: ")
    assert f"{out / name} is a link" in line
    assert snapshot(tmp_path / "outside") == before
    assert [p.name for p in out.iterdir()] == [name] and (out / name).is_symlink()


def test_the_plotter_replaces_its_earlier_files_whole(tmp_path, runs, capsys):
    out = tmp_path / "figures"
    assert plotter.main(["--runs", str(runs), "--out", str(out)]) == 0
    first = {p.name for p in out.iterdir()}
    assert {"summary.md", "summary.csv", "accuracy_loss.png"} <= first
    assert plotter.main(["--runs", str(runs), "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == first  # no temporary file left beside them


def test_make_folders_refuses_a_link_on_the_way_and_leaves_its_target_alone(tmp_path, victim):
    root = tmp_path / "Outputs"
    (root / "FreePruning").mkdir(parents=True)
    (root / "FreePruning" / "LeNet").symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(RunStateError, match="LeNet is a link"):
        safe_io.make_folders(root / "FreePruning" / "LeNet" / "P1_0.5", root)
    assert sorted(os.listdir(victim.parent)) == ["victim.txt"]


def test_make_folders_refuses_a_file_on_the_way(tmp_path):
    root = tmp_path / "Outputs"
    root.mkdir()
    (root / "FreePruning").write_text("not a folder")
    with pytest.raises(RunStateError, match="is a file, not a folder"):
        safe_io.make_folders(root / "FreePruning" / "LeNet", root)


def test_make_folders_accepts_a_root_reached_through_a_link(tmp_path):
    real = tmp_path / "disk"
    real.mkdir()
    (tmp_path / "Outputs").symlink_to(real, target_is_directory=True)  # the user's own choice
    made = safe_io.make_folders(tmp_path / "Outputs" / "a" / "b", tmp_path / "Outputs")
    assert made.is_dir() and (real / "a" / "b").is_dir()


def test_make_folders_refuses_a_path_that_leaves_the_root(tmp_path):
    with pytest.raises(RunStateError, match="leaves"):
        safe_io.make_folders(tmp_path / "Outputs" / ".." / "elsewhere", tmp_path / "Outputs")
    assert not (tmp_path / "elsewhere").exists()


def test_a_new_run_folder_is_never_created_through_a_planted_link(tmp_path, victim):
    root = tmp_path / "Outputs"
    root.mkdir()
    (root / "FreePruning").symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(RunStateError, match="FreePruning is a link"):
        RunDirectory.create(root / "FreePruning" / "LeNet", echo=None, root=root)
    assert sorted(os.listdir(victim.parent)) == ["victim.txt"]


def test_training_refuses_a_link_planted_in_the_output_tree(tmp_path, victim, capsys):
    root = tmp_path / "Outputs"
    (root / "FreePruning").mkdir(parents=True)
    (root / "FreePruning" / "LeNet").symlink_to(victim.parent, target_is_directory=True)
    before = snapshot(tmp_path / "outside")
    capsys.readouterr()
    assert main(["prog", *RUN_ARGS, f"--outputpath={root}"]) == 2
    line = one_line(capsys.readouterr().err)
    assert f"{root / 'FreePruning' / 'LeNet'} is a link" in line
    assert snapshot(tmp_path / "outside") == before
    assert not list(root.rglob("config.json"))
