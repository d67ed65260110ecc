"""Shared output of the cross-check scripts: print a Markdown table, save it and the rows."""

from __future__ import annotations

import json
from pathlib import Path


def write_report(folder: str, stem: str, lines: list[str], rows: list[dict]) -> None:
    """Print ``lines`` as one table; write ``<stem>.md`` and ``<stem>.json`` under ``folder``."""
    table = "\n".join(lines)
    print(table)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.md").write_text(table + "\n")
    (out / f"{stem}.json").write_text(json.dumps(rows, indent=2))
