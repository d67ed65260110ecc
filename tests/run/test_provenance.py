"""config.json's provenance: masktrainer's version, its git commit and dirtiness (null
outside a git checkout); bookkeeping, so resume and the plotter ignore it."""

import shutil
import subprocess

import pytest

import masktrainer
from masktrainer.config import RunConfig
from masktrainer.layout import BOOKKEEPING_KEYS
from masktrainer.methods.upgrade import config_values
from masktrainer.run import provenance


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_commit_and_dirty_of_a_checkout(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    _git(tmp_path, "add", "a.py")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    assert provenance.git_state(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "new.txt").write_text("untracked files do not count\n")
    assert provenance.git_state(tmp_path)["dirty"] is False
    (tmp_path / "a.py").write_text("x = 2\n")
    assert provenance.git_state(tmp_path) == {"commit": head, "dirty": True}


def test_null_outside_a_checkout_and_when_git_is_missing(tmp_path, monkeypatch):
    assert provenance.git_state(tmp_path) is None  # e.g. an installed wheel
    (tmp_path / ".git").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # no git program
    assert provenance.git_state(tmp_path) == {"commit": None, "dirty": None}


def test_versions_name_the_library_and_the_fields_are_bookkeeping():
    assert provenance.versions()["masktrainer"] == masktrainer.__version__
    assert {"versions", "git"} <= set(BOOKKEEPING_KEYS)
    cfg = RunConfig(traintype="FreePruning")
    saved = {**cfg.to_dict(), "versions": provenance.versions(),
             "git": {"commit": "0" * 40, "dirty": True}}
    assert RunConfig.from_dict(config_values(saved)) == cfg  # resume reads it back


def test_a_process_records_the_commit_it_started_from(monkeypatch):
    """A long process (a sweep, a comparison) runs the code it read when it started: a later
    commit in its checkout must not be recorded as the code of its later runs."""
    states = iter([{"commit": "a" * 40, "dirty": False}, {"commit": "b" * 40, "dirty": False}])
    monkeypatch.setattr(provenance, "git_state", lambda root=None: next(states))
    monkeypatch.setattr(provenance, "_AT_START", [])
    first = provenance.process_git_state()
    first["commit"] = "edited by a caller"
    assert provenance.process_git_state() == {"commit": "a" * 40, "dirty": False}


def test_a_run_names_a_checkout_that_changed_since_the_process_started(monkeypatch):
    start = {"commit": "a" * 40, "dirty": False}
    monkeypatch.setattr(provenance, "_AT_START", [start])
    monkeypatch.setattr(provenance, "git_state", lambda root=None: dict(start))
    assert provenance.run_git_state() == start  # unchanged: nothing added
    later = {"commit": "b" * 40, "dirty": True}
    monkeypatch.setattr(provenance, "git_state", lambda root=None: dict(later))
    assert provenance.run_git_state() == {**start, "checkout_at_run_start": later}
    assert provenance.process_git_state() == start  # the process's own record is untouched


def test_the_trainer_records_the_process_state(monkeypatch, tmp_path, mnist_splits):
    from masktrainer.layout import read_config
    from masktrainer.run.trainer import train

    start = {"commit": "c" * 40, "dirty": True}
    monkeypatch.setattr(provenance, "_AT_START", [start])
    monkeypatch.setattr(provenance, "git_state", lambda root=None: dict(start))
    cfg = RunConfig(traintype="FreePruning", maxepochs=0, progress="none", tensorboard=False,
                    outputpath=str(tmp_path))
    result = train(cfg, data=mnist_splits, echo=None)
    assert read_config(result.run_dir)["git"] == {"commit": "c" * 40, "dirty": True}
