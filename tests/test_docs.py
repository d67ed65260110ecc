"""The documentation: the generated flag tables match the option declarations, the README is
a front page linking every docs/ page, every relative link resolves, and no page names a
path of a development machine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from masktrainer import docs
from masktrainer.layout import run_files_table

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_the_committed_flag_tables_are_the_generated_ones():
    text = (ROOT / "docs" / "command-line.md").read_text(encoding="utf-8")
    assert docs.replace_block(text, docs.flag_tables()) == text, (
        "docs/command-line.md is stale: run python -m masktrainer.docs --write")


def test_the_committed_run_files_table_is_the_generated_one():
    text = (ROOT / "docs" / "run-directory.md").read_text(encoding="utf-8")
    assert docs.replace_block(text, run_files_table(), docs.RUN_FILES_BEGIN,
                              docs.RUN_FILES_END) == text, (
        "docs/run-directory.md is stale: run python -m masktrainer.docs --write")


def test_the_flag_tables_name_every_flag_once():
    from masktrainer.command_flags import COMMAND_OPTIONS
    from masktrainer.config import OPTIONS

    tables = docs.flag_tables()
    for option in (*OPTIONS.values(), *COMMAND_OPTIONS):
        assert tables.count(f"| `--{option.name}` |") == 1, option.name


def test_the_entry_point_prints_and_writes_the_block(tmp_path, monkeypatch, capsys):
    assert docs.main([]) == 0 and capsys.readouterr().out == docs.flag_tables()
    monkeypatch.chdir(tmp_path)
    assert docs.main(["--write"]) == 2 and "repository root" in capsys.readouterr().err
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "command-line.md"
    page.write_text(f"# Flags\n{docs.BEGIN}\nstale\n{docs.END}\nend\n", encoding="utf-8")
    assert docs.main(["--write"]) == 0
    assert page.read_text(encoding="utf-8") == (
        f"# Flags\n{docs.BEGIN}\n{docs.flag_tables()}{docs.END}\nend\n")
    assert docs.main(["--bogus"]) == 2


def test_replace_block_needs_its_markers():
    assert docs.replace_block(f"a\n{docs.BEGIN}\nold\n{docs.END}\nb\n", "new\n") == (
        f"a\n{docs.BEGIN}\nnew\n{docs.END}\nb\n")
    with pytest.raises(ValueError, match="needs one"):
        docs.replace_block("no markers\n", "new\n")


def test_the_readme_is_a_front_page_linking_every_docs_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert PAGES
    for page in PAGES:
        assert f"](docs/{page.name})" in readme, page.name
    assert "\npytest tests\n" in readme  # the command .ci/run runs


@pytest.mark.parametrize("path", [ROOT / "README.md", *PAGES], ids=lambda p: p.name)
def test_relative_links_resolve(path):
    for target, _ in LINK.findall(path.read_text(encoding="utf-8")):
        if "://" not in target:
            assert (path.parent / target).exists(), f"{path.name}: {target}"


def test_no_development_machine_paths_in_what_users_read():
    files = [ROOT / "README.md", *PAGES, *(ROOT / "experiments").rglob("*.md"),
             *(ROOT / "experiments").rglob("*.py")]
    forbidden = re.compile(r"\.\./shared|/work/|/root/|this 2-core|this CPU")
    hits = [f"{f.relative_to(ROOT)}:{n}" for f in files
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
            if forbidden.search(line)]
    assert not hits, hits
