"""Fixtures of the run-safety tests: a reference run and a stopped copy of it (see
safety_support.py)."""

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # safety_support, for the test modules

from safety_support import EPOCHS, RUN_ARGS, VICTIM, interrupt_after, run_dir_of  # noqa: E402

from masktrainer.cli import main  # noqa: E402


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """The uninterrupted run every continuation is compared with."""
    out = tmp_path_factory.mktemp("reference")
    assert main(["prog", *RUN_ARGS, f"--outputpath={out}"]) == 0
    return run_dir_of(out)


@pytest.fixture(scope="session")
def stopped_template(tmp_path_factory) -> Path:
    """The same run stopped by SIGINT after epoch 1: resume.json names ckpt-10 (the end of
    epoch 1) with ckpt-5 (epoch 1, step 5) as 'previous'; both are kept."""
    out = tmp_path_factory.mktemp("stopped")
    with pytest.MonkeyPatch.context() as patch:
        interrupt_after(patch, f"epoch   1/{EPOCHS}")
        assert main(["prog", *RUN_ARGS, f"--outputpath={out}"]) == 130
    run = run_dir_of(out)
    state = json.loads((run / "checkpoint" / "resume.json").read_text())
    assert state["checkpoint"] == "ckpt-10" and state["previous"]["checkpoint"] == "ckpt-5"
    return run


@pytest.fixture()
def stopped(stopped_template, tmp_path) -> Path:
    """A private copy of the stopped run (in ``tmp_path/runs``)."""
    target = tmp_path / "runs" / "run-stopped"
    shutil.copytree(stopped_template, target)
    return target


@pytest.fixture()
def victim(tmp_path) -> Path:
    """A file outside the run or output folder (its content: safety_support.VICTIM)."""
    path = tmp_path / "outside" / "victim.txt"
    path.parent.mkdir()
    path.write_bytes(VICTIM)
    return path
