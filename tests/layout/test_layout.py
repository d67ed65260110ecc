"""The run-directory format (masktrainer.layout): the one home of a run's file names, its
version and series, imported without TensorFlow, and what its writers and readers do."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from masktrainer import layout
from masktrainer.errors import RunStateError
from masktrainer.run.rundir import RunDirectory

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("masktrainer", "plotting", "experiments", "laperm")
OWNER = ROOT / "masktrainer" / "layout"
#: Files outside the owner that may still spell a run file's name, and why (keep it empty).
ALLOWED: dict[str, str] = {}


def _file_names() -> list[str]:
    names = [name for name, _ in layout.RUN_FILES if not name.endswith("/")]
    return [*names, layout.RESUME_FILE]


def test_importing_the_format_loads_neither_tensorflow_nor_keras():
    code = ("import sys\nimport masktrainer.layout, plotting.runs\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_no_source_outside_the_format_names_a_run_file():
    """``git grep`` for the names finds them in the format's package only (tests and docs
    aside): every writer and reader takes them from masktrainer.layout."""
    names = _file_names()
    assert {"config.json", "metrics.json", "metrics.csv", "model.keras", "train.log",
            "resume.json", "preprocessing.npz"} <= set(names)
    found = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if OWNER in path.parents or str(path.relative_to(ROOT)) in ALLOWED:
                continue
            text = path.read_text(encoding="utf-8")
            found += [f"{path.relative_to(ROOT)}: {name}" for name in names if name in text]
    assert found == []


def _metrics(epochs: int = 2) -> dict:
    series = (*layout.CORE_SERIES, layout.REMAINING_KEY, layout.PER_LAYER_KEY,
              layout.EPOCH_SECONDS)
    metrics = layout.new_metrics(series, ["d1", "d2"], [6, 4])
    for epoch in range(epochs + 1):
        for key in layout.CORE_SERIES:
            metrics[key].append(None if epoch == 0 and key.startswith("train") else 0.5)
        metrics[layout.REMAINING_KEY].append(10 - epoch)
        metrics[layout.PER_LAYER_KEY].append([[0, 1, 5, 0, 1, 5], [0, epoch, 4 - epoch, 0, 0, 4]])
        metrics[layout.EPOCH_SECONDS].append(1.5)
    metrics["epochs_completed"] = epochs
    return metrics


def test_new_metrics_start_running_at_the_format_version():
    metrics = layout.new_metrics(("trainLoss", "epochSeconds"), ["d1"], [6])
    assert metrics == {"trainLoss": [], "epochSeconds": [],
                       "format_version": layout.FORMAT_VERSION, "status": layout.RUNNING,
                       "epochs_completed": 0, "layer_names": ["d1"], "layer_sizes": [6]}


def test_metrics_csv_has_a_row_per_epoch_and_a_column_per_layer_count():
    fields = {layout.PER_LAYER_KEY: ["neg", "zero", "pos", "neg_e", "zero_e", "pos_e"]}
    flat = (*layout.CORE_SERIES, layout.REMAINING_KEY)
    rows = list(csv.reader(io.StringIO(layout.metrics_csv(_metrics(2), flat, fields))))
    assert rows[0][:2] == ["epoch", "trainLoss"] and rows[0][8] == layout.EPOCH_SECONDS
    assert rows[0][9:11] == ["d1:neg", "d1:zero"] and len(rows[0]) == 9 + 12
    assert len(rows) == 4 and rows[1][1] == "" and rows[3][0] == "2"  # None is an empty cell


def test_a_written_run_reads_back(tmp_path):
    run = RunDirectory.create(tmp_path, echo=None)
    assert run.path.name.startswith(layout.RUN_FOLDER_PREFIX)
    run.write_config({"seed": 0, "resolved_seed": 77, "format_version": layout.FORMAT_VERSION})
    metrics = _metrics(2)
    metrics["status"] = layout.COMPLETE
    run.write_metrics(metrics, (*layout.CORE_SERIES, layout.REMAINING_KEY), {})
    run.log("one line")
    assert layout.has_run_files(run.path) and (run.path / layout.METRICS_CSV_FILE).is_file()
    assert (run.path / layout.LOG_FILE).read_text() == "one line\n"
    assert layout.read_config(run.path)["resolved_seed"] == 77
    assert layout.read_status(run.path) == layout.COMPLETE
    warnings: list[str] = []
    read = layout.read_run(run.path, warnings.append)
    assert warnings == [] and read.complete and read.epochs == 2
    assert read.config["precision"] == "float32"  # filled in as earlier versions ran
    assert read.per_layer.shape == (3, 2, layout.PER_LAYER_FIELDS)
    assert read.seed_text == "seed 77 (drawn)" and read.layer_names == ("d1", "d2")
    assert layout.find_run_dirs(tmp_path, warnings.append) == [run.path]


def test_broken_files_are_one_line_errors_naming_the_file(tmp_path):
    (tmp_path / layout.CONFIG_FILE).write_text("{}")
    (tmp_path / layout.METRICS_FILE).write_text('{"status": "compl')
    with pytest.raises(RunStateError, match=f"{layout.METRICS_FILE} is not valid JSON"):
        layout.read_metrics(tmp_path)
    with pytest.raises(layout.RunFileError, match=f"{layout.METRICS_FILE}: invalid JSON"):
        layout.read_run(tmp_path, lambda message: None)
    (tmp_path / layout.METRICS_FILE).write_text('{"format_version": 9, "trainLoss": [1.0], '
                                                 '"epochs_completed": 0}')
    warnings: list[str] = []
    assert layout.read_run(tmp_path, warnings.append).epochs == 0
    assert any("unknown format_version 9" in line for line in warnings)
    assert all("\n" not in line for line in warnings)
