"""experiments.crosscheck.readme: the generated block between the two marker lines is replaced,
nothing else; a file without exactly one pair of markers is refused.

The whole path (a cross-check run rewriting docs/crosscheck.md) is tested in test_driver.py
(``test_the_readme_block_is_replaced_and_nothing_else``)."""

import os
from pathlib import Path

import pytest

from experiments.crosscheck.readme import (
    BEGIN,
    END,
    FULL_BEGIN,
    FULL_END,
    README_LIMIT,
    ReadmeError,
    generated_block,
    update_readme,
)

REPORT = "# Cross-check\n\n| target | result |\n|---|---|\n| C1 | pass |\n\n## Commands\n\nrun x\n"


def test_the_block_drops_the_title_and_the_commands():
    block = generated_block(REPORT)
    assert block.startswith("| target | result |") and "| C1 | pass |" in block
    assert "# Cross-check" not in block and "run x" not in block
    assert block.endswith("`crosscheck.md` beside the report.")


def test_only_the_text_between_the_markers_changes(tmp_path):
    readme = tmp_path / "crosscheck.md"
    readme.write_text(f"intro\n{BEGIN}\nold table\n{END}\nafter\n")
    updated = update_readme(readme, REPORT)
    assert updated == f"intro\n{BEGIN}\n{generated_block(REPORT)}\n{END}\nafter\n"
    assert readme.read_text() == f"intro\n{BEGIN}\nold table\n{END}\nafter\n"  # returned only


@pytest.mark.parametrize("text", ["no markers\n", f"{BEGIN}\n{BEGIN}\n{END}\n",
                                  f"{END}\nx\n{BEGIN}\n"])
def test_missing_doubled_or_swapped_markers_are_refused(text, tmp_path):
    readme = tmp_path / "crosscheck.md"
    readme.write_text(text)
    with pytest.raises(ReadmeError, match="needs one"):
        update_readme(readme, REPORT)


def test_the_quick_and_the_full_report_each_replace_their_own_block(tmp_path):
    readme = tmp_path / "crosscheck.md"
    readme.write_text(f"a\n{BEGIN}\nquick\n{END}\nb\n{FULL_BEGIN}\nfull\n{FULL_END}\nc\n")
    full = update_readme(readme, REPORT, quick=False)
    assert full == (f"a\n{BEGIN}\nquick\n{END}\nb\n{FULL_BEGIN}\n{generated_block(REPORT)}\n"
                    f"{FULL_END}\nc\n")
    quick = update_readme(readme, REPORT, quick=True)
    assert quick == (f"a\n{BEGIN}\n{generated_block(REPORT)}\n{END}\nb\n{FULL_BEGIN}\nfull\n"
                     f"{FULL_END}\nc\n")
    readme.write_text(f"{BEGIN}\nquick only\n{END}\n")
    with pytest.raises(ReadmeError, match="full schedule"):
        update_readme(readme, REPORT, quick=False)


def test_a_fifo_a_device_or_a_huge_file_is_refused_without_reading_it(tmp_path):
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    with pytest.raises(ReadmeError, match="not a regular file"):
        update_readme(fifo, REPORT)  # returns at once: the open never blocks
    with pytest.raises(ReadmeError, match="not a regular file"):
        update_readme(Path("/dev/zero"), REPORT)
    huge = tmp_path / "huge.md"
    with open(huge, "wb") as handle:
        handle.truncate(README_LIMIT + 1)
    with pytest.raises(ReadmeError, match="larger than"):
        update_readme(huge, REPORT)
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"\xff\xfe" + BEGIN.encode())
    with pytest.raises(ReadmeError, match="not UTF-8"):
        update_readme(binary, REPORT)
