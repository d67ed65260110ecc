"""The cross-check's report (experiments.crosscheck.report): one row per target, as Markdown
and as CSV, from what it is given."""

from __future__ import annotations

import csv
import io

from experiments.crosscheck.checks import Verdict
from experiments.crosscheck.report import COLUMNS, Row, csv_text, markdown, published_text

NUMBERS = {"a": {"value": 85.46, "unit": "%", "tag": "A"},
           "b": {"value": 266200, "unit": "kernel parameters", "tag": "S"}}


def _rows() -> list[Row]:
    return [Row("C1", "LaPerm F1", "85.46 % [A]", "a", Verdict("pass", "85.51 %", "ok"), "±1.5",
                7.4, ["python -m masktrainer --seed=1", "python -m masktrainer --seed=2"],
                "original"),
            Row("C2", "a | pipe", "—", "", Verdict("not run", "—", "line one\nline two"), "",
                None, [])]


def test_published_numbers_are_shown_with_unit_and_tag():
    assert published_text(["a"], NUMBERS) == "85.46 % [A]"
    assert published_text(["b"], NUMBERS) == "266,200 [S]"
    assert published_text(["a", "b"], NUMBERS) == "85.46 % [A] / 266,200 [S]"
    assert published_text([], NUMBERS) == "— (claim or ordering)"


def test_a_row_has_every_column():
    values = _rows()[0].values()
    assert tuple(values) == COLUMNS
    assert values["wall_s"] == "7" and values["status"] == "pass" and values["ours"] == "85.51 %"
    assert values["commands"] == "python -m masktrainer --seed=1 ; python -m masktrainer --seed=2"
    assert _rows()[1].values()["wall_s"] == ""


def test_the_csv_round_trips():
    rows = list(csv.DictReader(io.StringIO(csv_text(_rows()))))
    assert [row["target"] for row in rows] == ["C1", "C2"]
    assert rows[1]["reason"] == "line one\nline two" and rows[1]["title"] == "a | pipe"
    assert list(rows[0]) == list(COLUMNS)


def test_the_markdown_counts_statuses_and_keeps_one_line_per_row():
    text = markdown(_rows(), {"date": "2026-12-06"}, quick=True)
    lines = text.splitlines()
    assert lines[0] == "# Cross-check against the published numbers"
    assert "- date: 2026-12-06" in lines
    assert "- totals: 1 pass, 0 fail, 0 not reproducible, 1 not run" in lines
    assert any(line.startswith("- mode: --quick") for line in lines)
    (c2,) = [line for line in lines if line.startswith("| C2 |")]
    assert "a \\| pipe" in c2 and "line one line two" in c2 and "**not run**" in c2
    assert c2.endswith("| — |") and "| — (—) |" in c2  # no wall time, no source
    (c1,) = [line for line in lines if line.startswith("| C1 |")]
    assert "| 85.46 % [A] (a) |" in c1 and "| original |" in c1 and c1.endswith("| 7 |")
    assert lines[lines.index("## Commands") + 2:] == [
        "- C1: `python -m masktrainer --seed=1`", "- C1: `python -m masktrainer --seed=2`"]
    assert "- mode: default" in markdown(_rows(), {}, quick=False)
