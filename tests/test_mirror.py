"""Tests mirror the package: a module's tests are found from its path in seconds.

The rule, checked here:

* Scanned: every ``.py`` file of ``masktrainer/``, ``plotting/``, ``laperm/`` and
  ``experiments/``.
* A module *has logic* when it defines a function or a class (anywhere in the file). Modules
  that only import, re-export, dispatch at top level or hold data (constants, tables, option
  declarations) have no logic and need no test file of their own.
* Its mirrored test file: ``masktrainer/<path>/<name>.py`` -> ``tests/<path>/test_<name>.py``
  (the top package ``masktrainer`` is dropped); ``plotting/``, ``laperm/`` and
  ``experiments/`` keep their name (``plotting/runs.py`` -> ``tests/plotting/test_runs.py``).
  A package's ``__init__.py`` with logic -> ``tests/<path>/test_<package>.py``
  (``masktrainer/__init__.py`` -> ``tests/test_masktrainer.py``,
  ``methods/edge_popup/__init__.py`` -> ``tests/methods/edge_popup/test_edge_popup.py``); a
  ``__main__.py`` with logic -> ``tests/<path>/test_main.py``.
* :data:`ALLOWED` names the modules whose behaviour is tested elsewhere on purpose, and where;
  :data:`NOT_YET_MIRRORED` the modules still waiting for their own file (with where they are
  exercised today). A new module must come with its mirrored test file; an entry of either list
  that has gained its file, or no longer exists, fails until it is removed.

Cross-cutting suites live in named places that mirror no module: ``tests/test_contract.py``
(every method through one interface), ``tests/safety/`` (hostile input, by concern),
``tests/test_mirror.py`` (this file), ``tests/methods/test_layout.py`` and
``tests/layout/test_layout.py`` (where facts may live).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
#: Package folder -> its folder under tests/ ("" for the top package, which is dropped).
PACKAGES = {"masktrainer": "", "plotting": "plotting", "laperm": "laperm",
            "experiments": "experiments"}

_MEASURED = "a measurement script (speed is measured, not tested); its argument checks are in "
_CLI = "tests/experiments/test_experiments_cli.py"

#: Modules tested elsewhere on purpose -> where and why.
ALLOWED: dict[str, str] = {
    "laperm/__init__.py": "lazy names and Keras registration, in fresh processes whatever the "
                          "import order: tests/test_masktrainer.py",
    "laperm/keras_hook.py": "registration right after `import keras`, in fresh processes: "
                            "tests/test_masktrainer.py",
    "masktrainer/methods/checkpoints.py": "an interface only (every member raises "
                                          "NotImplementedError); its implementation: "
                                          "tests/evaluate/test_cli.py",
    "experiments/peers/__init__.py": "a table of the peers (a frozen dataclass and its rows): "
                                     "tests/experiments/peers/test_controlled.py",
    "masktrainer/run/lock.py": "two processes on one run directory: tests/safety/test_races.py",
    "masktrainer/safe_io.py": "hostile output trees and links: "
                                  "tests/safety/test_output_tree.py, tests/safety/test_links.py",
    "masktrainer/run/signals.py": "real signals to real runs: tests/safety/test_signals.py",
    "masktrainer/npz.py": "forged npz headers: tests/safety/test_npz_headers.py",
    "experiments/crosscheck/records.py": "forged records: tests/safety/test_forged_records.py",
    "experiments/benchmark_laperm_sync.py": _MEASURED + _CLI,
    "experiments/benchmark_methods.py": _MEASURED + _CLI,
    "experiments/benchmark_step_time.py": _MEASURED + _CLI,
    "experiments/benchmark_trainer.py": _MEASURED + _CLI,
    "experiments/laperm_checkpoints.py": _MEASURED + _CLI,
    "experiments/laperm_f1f2_diagnostics.py": _MEASURED + _CLI,
    "experiments/timing.py": "the benchmarks' clock and its JSON output: " + _CLI,
    "experiments/tf1_seed_coupling.py": "a findings script (experiments/findings/); the "
                                        "coupling it measures: tests/nn/test_build.py",
    "experiments/peers/ours.py": "run by the peers' benchmark: "
                                 "tests/experiments/test_benchmark_peers.py",
    "experiments/peers/report.py": "written by the peers' benchmark: "
                                   "tests/experiments/test_benchmark_peers.py",
}

#: Modules still without their mirrored file -> where they are exercised today.
NOT_YET_MIRRORED: dict[str, str] = {}


def _has_logic(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
               for node in ast.walk(tree))


def mirrored_test(module: str) -> str:
    """The test file (relative to the checkout) that mirrors ``module`` (relative path)."""
    parts = Path(module).with_suffix("").parts
    folder = [PACKAGES[parts[0]]] if PACKAGES[parts[0]] else []
    inner, name = list(parts[1:-1]), parts[-1]
    if name == "__init__":
        name = (inner or [parts[0]])[-1]
    elif name == "__main__":
        name = "main"
    return Path("tests", *folder, *inner, f"test_{name}.py").as_posix()


def modules_with_logic() -> list[str]:
    return sorted(path.relative_to(ROOT).as_posix()
                  for package in PACKAGES for path in (ROOT / package).rglob("*.py")
                  if _has_logic(path))


def test_the_rule_maps_paths_as_documented():
    assert mirrored_test("masktrainer/run/trainer.py") == "tests/run/test_trainer.py"
    assert mirrored_test("masktrainer/cli.py") == "tests/test_cli.py"
    assert mirrored_test("masktrainer/__init__.py") == "tests/test_masktrainer.py"
    assert mirrored_test("masktrainer/methods/edge_popup/__init__.py") == \
        "tests/methods/edge_popup/test_edge_popup.py"
    assert mirrored_test("plotting/runs.py") == "tests/plotting/test_runs.py"
    assert mirrored_test("experiments/crosscheck/__main__.py") == \
        "tests/experiments/crosscheck/test_main.py"
    assert mirrored_test("laperm/__init__.py") == "tests/laperm/test_laperm.py"


def test_every_module_with_logic_has_its_mirrored_test_file():
    missing = [f"{module} -> {mirrored_test(module)}" for module in modules_with_logic()
               if module not in ALLOWED and module not in NOT_YET_MIRRORED
               and not (ROOT / mirrored_test(module)).is_file()]
    assert not missing, "modules without their mirrored test file:\n" + "\n".join(missing)


def test_the_exception_lists_are_current():
    modules = set(modules_with_logic())
    for listed in (ALLOWED, NOT_YET_MIRRORED):
        stale = [module for module in listed
                 if module not in modules or (ROOT / mirrored_test(module)).is_file()]
        assert not stale, f"remove (gone, or now mirrored): {stale}"
    assert not set(ALLOWED) & set(NOT_YET_MIRRORED)
