"""``python -m plotting.plotter``: files written, warnings, one-line errors (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plotting.plotter import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "plotting.plotter", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_writes_files_and_warns(runs_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    result = run_cli(
        "--runs", str(runs_root), "--compare", "initializer", "--out", str(out),
        "--formats", "png,pdf", "--dpi", "40", "--ylim", "accuracy=0:100", "--logy", "loss",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = result.stdout.split()
    assert str(out / "compare_initializer.png") in written
    assert str(out / "accuracy_sparsity.pdf") in written
    assert str(out / "summary.md") in written
    assert all(Path(path).is_file() for path in written)
    assert "run-corrupt/metrics.json" in result.stderr


def test_cli_defaults_to_runs_folder_and_never_loads_tensorflow(
    tmp_path: Path, run_writer
) -> None:
    """The plotter reads run directories only: no TensorFlow or Keras import."""
    run_writer(tmp_path, 0, [0.1, 0.5])
    script = (
        "import sys; from plotting.plotter import main; code = main(sys.argv[1:]);"
        " loaded = {'tensorflow', 'keras'} & set(sys.modules);"
        " sys.exit(f'loaded {loaded}' if loaded else code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "--runs", str(tmp_path), "--dpi", "30"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "accuracy_loss.png").is_file()
    assert (tmp_path / "summary.csv").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--runs", "{empty}"], "no runs found"),
        (["--runs", "{missing}"], "runs folder not found"),
        (["--runs", "{runs}", "--compare", "nosuchfield"], "unknown --compare field"),
        (["--runs", "{runs}", "--compare", "seed"], "unknown --compare field"),
        (["--runs", "{runs}", "--compare", "progress"], "unknown --compare field"),
        (["--runs", "{runs}", "--formats", "png,gif"], "unsupported format 'gif'"),
        (["--runs", "{runs}", "--dpi", "0"], "--dpi must be in 1..1200"),
        (["--runs", "{runs}", "--ylim", "accuracy"], "expected KIND=LOW:HIGH"),
        (["--runs", "{runs}", "--ylim", "speed=1:2"], "unknown axis kind 'speed'"),
        (["--runs", "{runs}", "--ylim", "accuracy=99:96"], "lower must be below the upper"),
        (["--runs", "{runs}", "--ylim", "loss=0:1", "--logy", "loss"], "must be positive"),
        (["--runs", "{runs}", "--ylim", "loss=:1", "--ylim", "loss=:2"], "given twice"),
        (["--runs", "{runs}", "--logy", "time"], "invalid choice: 'time'"),
        ([], "the following arguments are required: --runs"),
    ],
)
def test_cli_errors_exit_2(tmp_path: Path, run_writer, capsys, args, message: str) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    run_writer(tmp_path / "runs", 0, [0.1, 0.5])  # valid, so no warnings
    paths = {name: str(tmp_path / name) for name in ("empty", "missing", "runs")}
    try:
        code = main([arg.format(**paths) for arg in args])
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert out == ""
    assert not any((tmp_path / "runs").glob("*.png"))
