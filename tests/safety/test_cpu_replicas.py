"""Issue 21, class 5: ``--distribute mirrored --cpu_replicas N`` never starts a run that cannot
end. TensorFlow's all-reduce over many logical CPU devices stalls (256 replicas blocked with
no CPU use and ignored SIGINT, leaving the run marked running; 32 did not finish a 4-step epoch
in 100 s where 16 took 31 s), so N is bounded where it is declared: a larger N is one line with
the reason before any run folder, and the bound itself runs to completion in a subprocess."""

import json
import os
import subprocess
import sys

import pytest
from safety_support import PACKAGE_ROOT, TF_NOISE

from masktrainer.cli import main
from masktrainer.config import OPTIONS

BOUND = int(OPTIONS["cpu_replicas"].maximum)


@pytest.mark.parametrize("replicas", [BOUND + 1, 32, 256])
def test_more_replicas_than_the_bound_are_one_line(replicas, tmp_path, capsys):
    out = tmp_path / "Outputs"
    code = main(["prog", "--distribute=mirrored", f"--cpu_replicas={replicas}",
                 f"--outputpath={out}", "--maxepochs=0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"masktrainer: error: --cpu_replicas must be an integer in [0, {BOUND}]")
    assert "all-reduce" in err and not out.exists()


def test_the_bound_trains_to_completion(tmp_path):
    out = tmp_path / "Outputs"
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT, "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "masktrainer", "--traintype=FreePruning", "--nettype=LeNet",
         "--maxepochs=1", "--batchsize=256", "--validation_size=59000", "--eval_batchsize=2000",
         "--distribute=mirrored", f"--cpu_replicas={BOUND}", "--progress=none",
         "--notensorboard", f"--outputpath={out}"],
        capture_output=True, text=True, env=env, timeout=300)  # a hang fails, never blocks
    errors = [line for line in done.stderr.splitlines() if not line.startswith(TF_NOISE)]
    assert done.returncode == 0, errors[-5:]
    metrics, = out.rglob("metrics.json")
    assert json.loads(metrics.read_text())["status"] == "complete"
