"""benchmark_peers: the missing-PyTorch error, the PyTorch re-implementations' semantics, and
the --smoke run's report files (no timings are asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]


def test_without_torch_one_line_and_exit_2(tmp_path):
    stub = tmp_path / "stub" / "torch"  # hides an installed torch too
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('no torch here')\n")
    env = {**os.environ, "PYTHONPATH": f"{stub.parent}{os.pathsep}{CHECKOUT}"}
    result = subprocess.run([sys.executable, "-m", "experiments.benchmark_peers", "--smoke"],
                            capture_output=True, text=True, timeout=300, cwd=CHECKOUT, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install ".[bench]"' in lines[0]
    assert result.stdout == ""


def test_bad_net_is_refused_before_work(capsys):
    from experiments.benchmark_peers import main

    assert main(["--nets", "lenet,Conv9"]) == 2
    assert "unknown 'Conv9'" in capsys.readouterr().err.strip()


def test_smoke_run_writes_the_report(tmp_path):
    pytest.importorskip("torch")
    from experiments.benchmark_peers import main

    out = tmp_path / "peers"
    assert main(["--smoke", "--nets", "lenet", "--precisions", "float32", "--out",
                 str(out)]) == 0
    report = json.loads((out / "benchmark_peers.json").read_text())
    assert [(row["net"], row["compare"]) for row in report["rows"]] == [("lenet", "float32")]
    assert report["rows"][0]["ours_ms"] > 0 and report["rows"][0]["theirs_ms"] > 0
    assert report["machine"]["cpu"]["cores"] and "avx512_bf16" in report["machine"]["cpu"]
    assert "| net | batch |" in (out / "benchmark_peers.md").read_text()
