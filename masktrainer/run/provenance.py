"""Where a run came from: the library's version, its git commit and whether the tree was dirty.

A run's config records ``versions`` (Python, TensorFlow, Keras, NumPy and masktrainer) and
``git``: ``{"commit": SHA, "dirty": bool}`` when the library runs from a git checkout, or
``null`` when it is installed without one. ``git`` is the checkout as the process found it
when it started (``process_git_state``): a long process (a sweep, a comparison, a
cross-check) runs the code it read then; if the checkout has changed by the time a later run
starts, the run adds ``checkout_at_run_start``, since modules imported late may be newer.
Nothing here imports TensorFlow itself.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from masktrainer.version import __version__

GIT_SECONDS = 10
_AT_START: list[dict[str, Any] | None] = []  # the library checkout's state, read once


def library_root() -> Path:
    """The folder that holds the ``masktrainer`` package (a checkout's root when run from one)."""
    return Path(__file__).resolve().parents[2]  # masktrainer/run/provenance.py


def versions() -> dict[str, str]:
    """The versions of Python, the libraries a run uses, and masktrainer's own."""
    found = {"python": sys.version.split()[0]}
    for name in ("tensorflow", "keras", "numpy"):
        module = sys.modules.get(name)
        if module is not None:
            found[name] = module.__version__
    found["masktrainer"] = __version__
    return found


def _git(root: Path, *args: str) -> str | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # never take the index lock of the checkout
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=GIT_SECONDS, env=env, check=False)
    except (OSError, subprocess.SubprocessError):  # no git, or it hangs
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(root: Path | None = None) -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the checkout the library runs from; None when it is not
    in one (an installed package). ``dirty``: tracked files differ from the commit."""
    root = library_root() if root is None else root
    if not (root / ".git").exists():  # a folder (a clone) or a file (a worktree)
        return None
    commit = _git(root, "rev-parse", "HEAD")
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip() if commit else None,
            "dirty": None if status is None else bool(status.strip())}


def process_git_state() -> dict[str, Any] | None:
    """:func:`git_state` of the library's checkout as this process first read it; entry points
    call it as they start, so every run of the process records the commit its code came from."""
    if not _AT_START:
        _AT_START.append(git_state())
    return copy.deepcopy(_AT_START[0])


def run_git_state() -> dict[str, Any] | None:
    """What a run records as ``git``: :func:`process_git_state`, plus ``checkout_at_run_start``
    (the checkout's state now) when the checkout changed since the process read it: modules
    the process imports later (a method's, when it first trains) may come from the newer one."""
    start = process_git_state()
    if start is not None and (now := git_state()) != start:
        start["checkout_at_run_start"] = now
    return start
