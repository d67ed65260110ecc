"""Experiment scripts reject bad arguments with a one-line error (exit 2) before any work."""

import subprocess
import sys
from pathlib import Path

import pytest

# The experiments live in the checkout (not in the installed package): run them from its root.
CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script,args,message", [
    ("laperm_f1f2_diagnostics", ["--mode", "ceiling", "--net", "F2"], "F1 only"),
    ("benchmark_laperm_sync", ["--models", "F1,F9"], "unknown model"),
    ("laperm_checkpoints", ["--mode", "variant", "--net", "F2", "--keep", "3/5"], "F1"),
    ("laperm_checkpoints", ["--mode", "variant", "--keep", "5/3"], "--keep"),
    ("self_pruning_c10_checks", ["--data_dir", "/nonexistent"], "not a folder"),
    ("self_pruning_c10_checks", ["--data_dir", ".", "--steps", "0"], "--steps must be"),
    # A control character in any path given: one line, before any work.
    ("self_pruning_c10_checks", ["--data_dir", "/tmp/a\nb"], "must not contain"),
    ("device_check", ["--out", "/tmp/a\x1bb"], "must not contain"),
    ("device_check", ["--out", "/tmp/dc", "--data_dir", "/tmp/a\tb"], "must not contain"),
    ("benchmark_trainer", ["--json", "/tmp/out\n.json"], "must not contain"),
    ("precision_parity", ["--outputpath", "/tmp/a\nb"], "must not contain"),
])
def test_bad_arguments_exit_2(script, args, message, tmp_path):
    result = subprocess.run([sys.executable, "-m", f"experiments.{script}", *args],
                            capture_output=True, text=True, timeout=300, cwd=CHECKOUT)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr.strip().splitlines()[-1]
    assert "steps with syncs" not in result.stdout  # nothing ran: no timing line


@pytest.mark.parametrize("script", ["benchmark_methods", "benchmark_step_time",
                                    "benchmark_trainer"])
@pytest.mark.parametrize("case", ["missing_folder", "link", "folder"])
def test_benchmarks_refuse_an_unwritable_json_before_timing(script, case, tmp_path):
    earlier = tmp_path / "earlier.json"
    earlier.write_text("{}")
    target = {"missing_folder": tmp_path / "no" / "such" / "out.json",
              "link": tmp_path / "out.json", "folder": tmp_path}[case]
    if case == "link":
        target.symlink_to(earlier)
    result = subprocess.run([sys.executable, "-m", f"experiments.{script}", "--json",
                             str(target)], capture_output=True, text=True, timeout=300,
                            cwd=CHECKOUT)
    assert result.returncode == 2, result.stderr
    reason = {"missing_folder": "does not exist", "link": "is a link",
              "folder": "not a regular file"}[case]
    assert reason in result.stderr.strip().splitlines()[-1]
    assert earlier.read_text() == "{}" and result.stdout.count("\n") <= 1  # nothing timed
