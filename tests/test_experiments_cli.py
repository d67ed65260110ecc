"""Experiment scripts reject bad arguments with a one-line error (exit 2) before any work."""

import subprocess
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.mark.parametrize("script,args,message", [
    ("laperm_crosscheck.py", ["--only", "F9"], "unknown model"),
    ("laperm_crosscheck.py", ["--seeds", "1,x"], "--seeds"),
    ("laperm_f1f2_diagnostics.py", ["--mode", "ceiling", "--net", "F2"], "F1 only"),
    ("benchmark_laperm_sync.py", ["--models", "F1,F9"], "unknown model"),
])
def test_bad_arguments_exit_2(script, args, message, tmp_path):
    result = subprocess.run([sys.executable, str(EXPERIMENTS / script), *args],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr.strip().splitlines()[-1]
    # Nothing ran: no timing line (benchmark), no run directory (cross-check's default).
    assert "steps with syncs" not in result.stdout
    assert not (tmp_path / "Outputs").exists()
