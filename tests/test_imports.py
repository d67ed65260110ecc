"""The import graph of the code: no cycle between modules or packages, and the library
(``masktrainer``, ``laperm``, ``plotting``) imports nothing from ``experiments``.

Every module is parsed with :mod:`ast` (nothing is imported), so an import counts wherever it
is written: at the top, inside a function, in a ``try``. Imports under ``if TYPE_CHECKING:``
never run and exist precisely to name a type without a run-time dependency, so they do not
count for cycles; they do count for the layering rule (a library annotation naming an
``experiments`` type would still make the library depend on the scripts above it).
``importlib.import_module("a.b")`` with a literal name counts like ``import a.b``. The
subcommand table ``commands.SUBCOMMANDS`` counts as imports of its modules by
``masktrainer.cli``, which imports them by name. Other tables of module names imported lazily
by name (the package's lazy exports ``masktrainer._EXPORTS``, a method's ``keras_modules``)
and names built at run time (the registry's method discovery) are not seen.

Package level: inside every package, the graph among its direct children (modules and
subpackages, each standing for everything under it) is acyclic, and so is the graph among the
four top-level packages. Importing a package's own ``__init__`` from inside it is not an edge
between its children (the module graph still sees it).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP_PACKAGES = ("masktrainer", "laperm", "plotting", "experiments")
LIBRARY = ("masktrainer", "laperm", "plotting")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (one of ours)
    line: int
    type_only: bool  # under ``if TYPE_CHECKING:``


Graph = dict[str, dict[str, str]]  # node -> imported node -> where (module:line)


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the four packages."""
    modules = {}
    for top in TOP_PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of our modules (None: not ours)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _named(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement (or import_module call) loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, *([base] if base else [])])
        # ``from a import b`` loads the module a.b when there is one, else takes a name of a.
        return [f"{base}.{alias.name}" for alias in node.names] or [base]
    if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"):
        return [node.args[0].value]
    return []


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        for name in _named(node, module, is_package):
            target = _resolve(name, modules)
            if target is not None and target != module:
                found.append(Import(module, target, node.lineno, type_only))
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return found


def subcommand_imports(modules: dict[str, Path]) -> list[Import]:
    """``masktrainer.cli`` imports every module of the subcommand table by name: the first
    argument of each ``Subcommand(...)`` in ``masktrainer/commands.py``."""
    tree = ast.parse(modules["masktrainer.commands"].read_text(encoding="utf-8"))
    return [Import("masktrainer.cli", call.args[0].value, call.lineno, False)
            for call in ast.walk(tree)
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "Subcommand"
            and call.args and isinstance(call.args[0], ast.Constant)
            and call.args[0].value in modules and call.args[0].value != "masktrainer.cli"]


def all_imports() -> list[Import]:
    modules = module_files()
    return [*(edge for module, path in modules.items()
              for edge in imports_of(module, path, modules)), *subcommand_imports(modules)]


def cycles(edges: Graph) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted.

    Every edge between two members of one component lies on a cycle: those are the imports
    to break.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:  # the graphs are small (recursion depth < 200)
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, {})):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted({*edges, *(t for targets in edges.values() for t in targets)}):
        if node not in index:
            connect(node)
    return sorted(components)


def _describe(component: list[str], edges: Graph) -> str:
    steps = [f"  {a} -> {b} ({edges[a][b]})" for a in component for b in component
             if b in edges.get(a, {})]
    return f"cycle among {', '.join(component)}:\n" + "\n".join(steps)


def module_graph(imports: list[Import]) -> Graph:
    """The run-time imports between modules."""
    edges: Graph = defaultdict(dict)
    for edge in imports:
        if not edge.type_only:
            edges[edge.source].setdefault(edge.target, f"{edge.source}:{edge.line}")
    return edges


def package_graphs(imports: list[Import]) -> dict[str, Graph]:
    """Per package ("" for the top), the run-time imports between its direct children."""
    graphs: dict[str, Graph] = defaultdict(lambda: defaultdict(dict))
    for edge in imports:
        if edge.type_only:
            continue
        source, target = edge.source.split("."), edge.target.split(".")
        shared = 0
        while shared < min(len(source), len(target)) and source[shared] == target[shared]:
            shared += 1
        if shared == len(source) or shared == len(target):
            continue  # one is the other's package: the same child, or the package itself
        parent = ".".join(source[:shared])
        child = ".".join(source[: shared + 1])
        other = ".".join(target[: shared + 1])
        graphs[parent][child].setdefault(other, f"{edge.source}:{edge.line}")
    return graphs


def test_the_parser_sees_every_kind_of_import(tmp_path):
    path = tmp_path / "x.py"
    path.write_text(
        "import a.b.c\nfrom . import d\nfrom ..b import c, not_a_module\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from a import e\n"
        "def late():\n    import importlib\n    return importlib.import_module('a.e')\n",
        encoding="utf-8")
    modules = {name: Path() for name in ["a", "a.b", "a.b.c", "a.e", "a.b.x"]}
    tree_imports = imports_of("a.b.x", path, modules)
    assert [(i.target, i.line, i.type_only) for i in tree_imports] == [
        ("a.b.c", 1, False), ("a.b", 2, False), ("a.b.c", 3, False), ("a.b", 3, False),
        ("a.e", 6, True), ("a.e", 9, False)]
    assert cycles({"x": {"y": 1}, "y": {"z": 2, "x": 3}, "z": {"x": 4}, "w": {"x": 5}}) == [
        ["x", "y", "z"]]
    assert cycles({"x": {"y": 1}, "y": {"z": 2}}) == []


def test_the_subcommand_table_counts_as_imports_by_the_entry_point():
    modules = module_files()
    targets = {edge.target for edge in subcommand_imports(modules)}
    assert targets == {"masktrainer.export.cli", "masktrainer.evaluate.cli"}
    # ... and only by it: the table's own module stays data (a dispatcher there would import
    # the subcommands that import it back).
    tree = ast.parse(modules["masktrainer.commands"].read_text(encoding="utf-8"))
    assert "importlib" not in {alias.name for node in ast.walk(tree)
                               if isinstance(node, ast.Import) for alias in node.names}


def test_no_module_imports_another_that_imports_it_back():
    modules = module_files()
    assert len(modules) > 100  # the packages were found
    edges = module_graph(all_imports())
    found = [_describe(component, edges) for component in cycles(edges)]
    assert not found, "\n".join(found)


def test_no_package_imports_another_that_imports_it_back():
    found = []
    for parent, edges in sorted(package_graphs(all_imports()).items()):
        found += [f"in {parent or 'the top level'}, " + _describe(component, edges)
                  for component in cycles(edges)]
    assert not found, "\n".join(found)


def test_the_library_imports_nothing_from_experiments():
    found = [f"{edge.source}:{edge.line} imports {edge.target}" for edge in all_imports()
             if edge.source.split(".")[0] in LIBRARY and edge.target.split(".")[0] == "experiments"]
    # nor reaches for it by name (importlib.util.find_spec("experiments") read the presets)
    for module, path in module_files().items():
        if module.split(".")[0] in LIBRARY:
            found += [f"{module}:{node.lineno} names {node.value!r}"
                      for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                      if isinstance(node, ast.Constant) and isinstance(node.value, str)
                      and node.value.split(".")[0] == "experiments"]
    assert not found, "\n".join(found)
