"""Issue 13, class 7: the plotter reads only regular files within a size limit, reports
non-finite values, and turns bad --out/--dpi values into one line."""

import json
import logging
import os
import signal
import subprocess
import sys

import pytest
from safety_support import PACKAGE_ROOT, one_line

import plotting
from plotting import plotter

SERIES = ("trainLoss", "valLoss", "testLoss", "trainAccuracy", "valAccuracy", "testAccuracy")


def _run(root, name, **series):
    folder = root / name
    folder.mkdir(parents=True)
    config = {"traintype": "FreePruning", "nettype": "LeNet", "seed": 1, "lr": 0.001}
    metrics = {"format_version": 1, "status": "complete", "epochs_completed": 2,
               **{key: [0.5, 0.6, 0.7] for key in SERIES}, **series}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def _plot(*args):
    return subprocess.run([sys.executable, "-m", "plotting.plotter", *map(str, args)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": PACKAGE_ROOT, "MPLBACKEND": "Agg"})


def test_a_fifo_and_a_device_named_metrics_json_are_skipped_without_hanging(tmp_path):
    runs = tmp_path / "runs"
    _run(runs, "good")
    fifo = _run(runs, "fifo") / "metrics.json"
    fifo.unlink()
    os.mkfifo(fifo)  # reading it would block forever
    zero = _run(runs, "zero") / "metrics.json"
    zero.unlink()
    zero.symlink_to("/dev/zero")  # reading it would never end
    result = _plot("--runs", runs, "--out", tmp_path / "figures")
    assert result.returncode == 0, result.stderr
    assert f"{fifo} is not a regular file" in result.stderr
    assert f"{zero} is not a regular file" in result.stderr
    assert (tmp_path / "figures" / "accuracy_loss.png").is_file()


def test_an_oversized_metrics_file_is_skipped_unread(tmp_path, caplog):
    _run(tmp_path, "good")
    big = _run(tmp_path, "big") / "metrics.json"
    with open(big, "r+b") as handle:
        handle.truncate(65 * 2**20)  # sparse: nothing is allocated
    with caplog.at_level(logging.WARNING, logger="plotting"):
        runs = plotting.load_runs(tmp_path)
    assert [run.path.name for run in runs] == ["good"]
    assert f"{big} is larger than" in caplog.text


@pytest.mark.parametrize("value,shown", [(float("inf"), "inf"), (float("-inf"), "-inf"),
                                         (float("nan"), "nan")])
def test_non_finite_values_are_reported_and_left_out(tmp_path, caplog, value, shown):
    path = _run(tmp_path, "run", testAccuracy=[0.5, value, 0.7]) / "metrics.json"
    with caplog.at_level(logging.WARNING, logger="plotting"):
        figures = plotting.plot_runs(tmp_path, out=tmp_path / "figures")
    assert (f"{path}: 'testAccuracy' has non-finite values ({shown} at epoch 1); they are not "
            "plotted") in caplog.text
    assert "accuracy_loss" in figures
    summary = (tmp_path / "figures" / "summary.csv").read_text()
    assert "inf" not in summary.lower()


@pytest.fixture()
def runs(tmp_path):
    _run(tmp_path / "runs", "good")
    return tmp_path / "runs"


@pytest.mark.parametrize("layout,message", [
    ("out-is-a-file", "is a file, not a folder"),
    ("out-below-a-file", "is a file, not a folder"),
    ("out-name-too-long", "is longer than 255 bytes"),
])
def test_an_unusable_out_folder_is_one_line(runs, tmp_path, capsys, layout, message):
    (tmp_path / "file").write_text("x")
    out = {"out-is-a-file": tmp_path / "file", "out-below-a-file": tmp_path / "file" / "figs",
           "out-name-too-long": tmp_path / ("f" * 300)}[layout]
    assert plotter.main(["--runs", str(runs), "--out", str(out)]) == 2
    line = one_line(capsys.readouterr().err, prefix="plotter: error: ")
    assert line.startswith(f"plotter: error: --out {out} cannot be created") and message in line


@pytest.mark.parametrize("below", ["", "sub"])
def test_a_runs_folder_name_too_long_is_refused_up_front(tmp_path, capsys, below):
    """Without --out the figures go into --runs: a name over the file system's limit there is
    one line and exit 2 before any work, not a failed write (exit 1)."""
    runs = tmp_path / ("r" * 300) / below
    assert plotter.main(["--runs", str(runs)]) == 2
    line = one_line(capsys.readouterr().err, prefix="plotter: error: --runs ")
    assert line.endswith("File name too long"), line
    assert list(tmp_path.iterdir()) == []


def test_a_figure_that_cannot_be_written_is_one_line(runs, tmp_path, capsys):
    (tmp_path / "figures" / "accuracy_loss.png").mkdir(parents=True)  # a folder in its place
    assert plotter.main(["--runs", str(runs), "--out", str(tmp_path / "figures")]) == 1
    line = one_line(capsys.readouterr().err, prefix="plotter: error: ")
    assert line.startswith("plotter: error: cannot write ") and "accuracy_loss.png" in line


@pytest.mark.parametrize("dpi,message", [("0", "--dpi must be in 1..1200 (got 0)"),
                                         ("100000", "--dpi must be in 1..1200 (got 100000)"),
                                         ("-3", "--dpi must be in 1..1200 (got -3)"),
                                         ("abc", "argument --dpi: invalid int value: 'abc'")])
def test_bad_dpi_values_are_one_line(runs, capsys, dpi, message):
    try:
        code = plotter.main(["--runs", str(runs), "--dpi", dpi])
    except SystemExit as done:  # argparse's own errors
        code = done.code
    assert code == 2
    assert message in one_line(capsys.readouterr().err, prefix="plotter: error: ")
    assert not list(runs.glob("*.png"))


def test_a_metrics_file_with_wrong_types_never_drops_the_good_runs(tmp_path, caplog):
    """Issue 21, class 7: integers beyond any float, objects, strings where numbers go."""
    _run(tmp_path, "good")
    _run(tmp_path, "bigint", valAccuracy=[10**400, 0.6, 0.7])
    _run(tmp_path, "objects", valAccuracy=[{"a": 1}, 0.6, 0.7])
    _run(tmp_path, "text", trainLoss="abc", epochs_completed=10**400)
    with caplog.at_level(logging.WARNING, logger="plotting"):
        runs = plotting.load_runs(tmp_path)
    assert sorted(run.path.name for run in runs) == ["bigint", "good", "objects", "text"]
    assert "'valAccuracy' is not a list of numbers" in caplog.text
    assert "Traceback" not in caplog.text


def test_the_same_configuration_and_seed_twice_is_reported(tmp_path, caplog):
    """Issue 21, class 8: a run trained twice does not pass silently as two seeds."""
    first, second = _run(tmp_path, "first"), _run(tmp_path, "second")
    with caplog.at_level(logging.WARNING, logger="plotting"):
        plotting.group_runs(plotting.load_runs(tmp_path))
    assert f"{second} repeats {first} (same configuration, seed 1)" in caplog.text


def test_an_interrupted_plotter_is_one_line_and_exit_130(tmp_path, monkeypatch, capsys):
    _run(tmp_path / "runs", "good")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plotter, "render", interrupted)
    assert plotter.main(["--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "f")]) == 130
    line = one_line(capsys.readouterr().err, "plotter: error: ")
    assert line.startswith("plotter: error: interrupted")


def test_sigterm_while_a_figure_is_written_is_one_line_exit_143_and_no_temporary(
        tmp_path, monkeypatch, capsys):
    _run(tmp_path / "runs", "good")
    out = tmp_path / "f"

    def terminated(fig, handle, **kwargs):
        handle.write(b"half a figure")  # the temporary exists when SIGTERM arrives
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM was not handled")

    monkeypatch.setattr(plotting.api, "_save", terminated)
    assert plotter.main(["--runs", str(tmp_path / "runs"), "--out", str(out)]) == 143
    line = one_line(capsys.readouterr().err, "plotter: error: ")
    assert line.startswith("plotter: error: interrupted (SIGTERM)")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize("name", ["summary.md", "summary.csv", "accuracy_loss.png"])
def test_a_link_at_any_output_name_is_refused_before_anything_is_written(name, tmp_path,
                                                                         capsys):
    _run(tmp_path / "runs", "good")
    out, victim = tmp_path / "f", tmp_path / "victim"
    out.mkdir()
    (out / name).symlink_to(victim)
    assert plotter.main(["--runs", str(tmp_path / "runs"), "--out", str(out)]) == 2
    line = one_line(capsys.readouterr().err, "plotter: error: ")
    assert line == (f"plotter: error: {out / name} is a link; the plotter never writes "
                    "through links (remove it or choose another --out)")
    assert [p.name for p in out.iterdir()] == [name] and not victim.exists()
