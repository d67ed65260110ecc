"""``crosscheck.md`` and ``crosscheck.csv``: one row per target, from verdicts and the runs
behind them. Pure formatting: it reads nothing but what it is given."""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any, Sequence

from experiments.crosscheck.checks import Verdict

COLUMNS = ("target", "title", "published", "source", "ours", "protocol", "tolerance", "status",
           "reason", "wall_s", "commands")


@dataclasses.dataclass
class Row:
    target: str
    title: str
    published: str  # "85.46 %" or "—"
    source: str  # published.json keys
    verdict: Verdict
    tolerance: str
    wall_s: float | None  # the runs' own training time (reused runs included)
    commands: list[str]
    protocol: str = ""  # the runs' --protocol and what was read (masktrainer.protocols)

    def values(self) -> dict[str, Any]:
        return {"target": self.target, "title": self.title, "published": self.published,
                "source": self.source, "ours": self.verdict.ours,
                "protocol": self.protocol, "tolerance": self.tolerance,
                "status": self.verdict.status, "reason": self.verdict.reason,
                "wall_s": "" if self.wall_s is None else f"{self.wall_s:.0f}",
                "commands": " ; ".join(self.commands)}


def published_text(keys: Sequence[str], numbers: dict[str, dict[str, Any]]) -> str:
    shown = []
    for key in keys:
        entry = numbers[key]
        unit = entry.get("unit", "")
        value = f"{entry['value']:,}" if unit == "kernel parameters" else f"{entry['value']}"
        shown.append(f"{value} {unit} [{entry['tag']}]" if unit != "kernel parameters"
                     else f"{value} [{entry['tag']}]")
    return " / ".join(shown) if shown else "— (claim or ordering)"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(rows: Sequence[Row], header: dict[str, str], quick: bool) -> str:
    counts = {status: sum(r.verdict.status == status for r in rows)
              for status in ("pass", "fail", "not reproducible", "not run")}
    lines = ["# Cross-check against the published numbers", ""]
    lines += [f"- {key}: {value}" for key, value in header.items()]
    lines += [f"- mode: {'--quick (shortened runs, floors of ours marked quick)' if quick else 'default'}",
              "- totals: " + ", ".join(f"{n} {status}" for status, n in counts.items()), "",
              "| target | what | published (source) | ours (mean ± std) | protocol | tolerance | "
              "status | why | wall s |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        v = row.values()
        lines.append("| " + " | ".join(_cell(x) for x in (
            v["target"], v["title"], f"{v['published']} ({v['source'] or '—'})", v["ours"],
            v["protocol"] or "—", v["tolerance"], f"**{v['status']}**", v["reason"],
            v["wall_s"] or "—")) + " |")
    lines += ["", "## Commands", ""]
    for row in rows:
        for command in row.commands:
            lines.append(f"- {row.target}: `{command}`")
    return "\n".join(lines) + "\n"


def csv_text(rows: Sequence[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.values())
    return buffer.getvalue()
