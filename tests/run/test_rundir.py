"""A run's folder (masktrainer.run.rundir): fresh per run, what its writers write, and refusing
a folder swapped while the run writes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from masktrainer import layout
from masktrainer.errors import RunStateError, RunWriteError
from masktrainer.run.rundir import RunDirectory, load_arrays


def test_create_makes_a_fresh_folder_each_time_with_its_id(tmp_path):
    first = RunDirectory.create(tmp_path / "method" / "net", echo=None, root=tmp_path)
    second = RunDirectory.create(tmp_path / "method" / "net", echo=None, root=tmp_path)
    assert first.path != second.path and first.path.parent == second.path.parent
    assert re.fullmatch(rf"{layout.RUN_FOLDER_PREFIX}[0-9a-f]{{7}}", first.path.name)
    assert first.run_id == first.path.name.removeprefix(layout.RUN_FOLDER_PREFIX)
    assert len(first.run_id) == 7 and first.path.is_dir() and not any(first.path.iterdir())


def test_create_refuses_a_link_on_the_way_and_a_file_as_parent(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "method").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunStateError, match="is a link"):
        RunDirectory.create(tmp_path / "out" / "method" / "net", echo=None, root=tmp_path / "out")
    assert not any((tmp_path / "elsewhere").iterdir())
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunStateError, match="is a file, not a folder"):
        RunDirectory.create(tmp_path / "file", echo=None, root=tmp_path)


def test_log_echoes_the_terminal_text_and_appends_the_line(tmp_path):
    printed: list[str] = []
    run = RunDirectory.create(tmp_path, echo=printed.append)
    run.log("first")
    run.log("second", terminal="second, in colour")
    run.log("third", echo=False)
    assert printed == ["first", "second, in colour"]
    assert (run.path / layout.LOG_FILE).read_text() == "first\nsecond\nthird\n"
    silent = RunDirectory.create(tmp_path, echo=None)
    silent.log("only in the file")
    assert (silent.path / layout.LOG_FILE).read_text() == "only in the file\n"


def test_config_metrics_and_csv_are_written_as_json_and_csv(tmp_path):
    run = RunDirectory.create(tmp_path, echo=None)
    run.write_config({"seed": 5})
    assert json.loads((run.path / layout.CONFIG_FILE).read_text()) == {"seed": 5}
    metrics = layout.new_metrics(("trainLoss", layout.EPOCH_SECONDS), [], [])
    metrics["trainLoss"] += [None, 0.5]
    metrics[layout.EPOCH_SECONDS] += [0.0, 2.0]
    run.write_metrics(metrics, ("trainLoss",), {})
    assert json.loads((run.path / layout.METRICS_FILE).read_text()) == metrics
    csv_lines = (run.path / layout.METRICS_CSV_FILE).read_text().splitlines()
    assert csv_lines == ["epoch,trainLoss,epochSeconds", "0,,0.0", "1,0.5,2.0"]
    assert run.write_json("extra.json", [1, 2]) == run.path / "extra.json"


def test_arrays_round_trip_as_plain_npz_also_in_a_subfolder(tmp_path):
    run = RunDirectory.create(tmp_path, echo=None)
    arrays = {"d1": np.array([[1, -1], [0, 1]], np.int8), "d1_scale": np.float32(0.5)}
    written = run.save_arrays("masks.npz", arrays)
    assert written == run.path / "masks.npz"
    read = load_arrays(written)
    assert sorted(read) == ["d1", "d1_scale"]
    assert read["d1"].dtype == np.int8 and read["d1"].tolist() == [[1, -1], [0, 1]]
    assert read["d1_scale"].shape == () and float(read["d1_scale"]) == 0.5
    nested = run.save_arrays("selections/epoch1.npz", {"x": [1, 2, 3]})
    assert nested.parent == run.path / "selections"
    assert load_arrays(nested)["x"].tolist() == [1, 2, 3]
    with np.load(nested, allow_pickle=False) as data:  # a plain npz any reader loads
        assert data["x"].tolist() == [1, 2, 3]


def test_a_subfolder_that_is_a_link_is_refused(tmp_path):
    run = RunDirectory.create(tmp_path / "runs", echo=None, root=tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (run.path / "selections").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunStateError, match="is a link"):
        run.save_arrays("selections/epoch1.npz", {"x": [1]})
    assert not any((tmp_path / "elsewhere").iterdir())
    (run.path / "taken").write_text("a file")
    with pytest.raises(RunWriteError, match="cannot create"):
        run.save_arrays("taken/epoch1.npz", {"x": [1]})


def test_a_swapped_run_folder_is_refused_before_writing(tmp_path):
    run = RunDirectory.create(tmp_path, echo=None)
    run.write_config({"seed": 1})
    moved = tmp_path / "moved"
    run.path.rename(moved)
    run.path.mkdir()  # another folder at the same path
    for write in (lambda: run.log("x"), lambda: run.write_config({}),
                  lambda: run.save_arrays("a.npz", {"x": [1]})):
        with pytest.raises(RunStateError, match="no longer leads to this run's folder"):
            write()
    assert not any(run.path.iterdir())
    run.path.rmdir()
    run.path.symlink_to(moved)  # a link to the very folder is refused too
    with pytest.raises(RunStateError, match="no longer leads to this run's folder"):
        run.check_in_place()


def test_a_folder_opened_before_it_exists_takes_its_identity_when_checked(tmp_path):
    run = RunDirectory(tmp_path / f"{layout.RUN_FOLDER_PREFIX}abc1234", echo=None)
    assert run.run_id == "abc1234"
    run.path.mkdir()
    run.check_in_place()  # first check: records the folder
    run.write_config({"seed": 2})
    assert layout.read_config(run.path) == {"seed": 2}
