"""Only masktrainer/methods/ knows a method: nothing outside it names a method's key or train type.

Every other module asks the run's method (its declarations and hooks). The scan reads every
string literal of the library and the plotter; the few that are the same words for another
reason are listed with that reason.
"""

import ast
from pathlib import Path

from masktrainer import methods

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("masktrainer", "plotting")
# (file, literal): the same word, meaning something else.
ALLOWED = {
    ("masktrainer/__init__.py", "laperm"): "the laperm package (the optimizer library)",
    ("masktrainer/config.py", "FreePruning"): "the default of --traintype",
    ("masktrainer/run/loading.py", "slot_machines"): "--split slot_machines (a data split)",
    ("masktrainer/data/settings.py", "slot_machines"): "--split slot_machines (a data split)",
    ("masktrainer/data/splits.py", "slot_machines"): "--split slot_machines (a data split)",
    ("masktrainer/data/preprocessing.py", "slot_machines"): "--normalization slot_machines",
}


def _method_names() -> set[str]:
    return ({method.key for method in methods.METHODS}
            | {t for method in methods.METHODS for t in method.train_types})


def named_methods(path: Path, names: set[str]) -> list[tuple[int, str]]:
    """(line, literal) of every string literal of ``path`` that is one of ``names``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in names]


def test_nothing_outside_methods_names_a_method_or_train_type():
    names = _method_names()
    found = []
    for package in SCANNED:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("masktrainer/methods/"):
                continue
            found += [f"{relative}:{line}: {literal!r}" for line, literal in
                      named_methods(path, names) if (relative, literal) not in ALLOWED]
    assert found == []


def test_the_scan_finds_a_train_type(tmp_path):
    """The check can fail: a literal train type or method key is found."""
    probe = tmp_path / "probe.py"
    probe.write_text('if cfg.traintype == "LaPerm" or key == "edge_popup":\n    pass\n')
    assert named_methods(probe, _method_names()) == [(1, "LaPerm"), (1, "edge_popup")]


def test_every_allowed_literal_is_still_there():
    """An exception that is no longer needed is dropped, not kept as a loophole."""
    names = _method_names()
    for relative, literal in ALLOWED:
        assert literal in names
        assert literal in {value for _, value in named_methods(ROOT / relative, names)}, relative
