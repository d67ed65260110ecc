"""Summary table per configuration: final and best-validation accuracy, sparsity.

Definitions (all accuracies in percent, aggregated over seeds):

* final: the value at the group's last epoch, over the runs that reached it
  (the last point of the plotted mean curve);
* best validation: per run, the epoch with the highest validation accuracy
  (first one on ties) and the test accuracy at that epoch (a run whose ``--protocol``
  selects on test: its best test epoch; :mod:`masktrainer.protocols`);
* protocol: each run's ``--protocol`` and what selects its reported epoch;
* remaining / flipped: remaining weights (or flipped signs) at the last epoch.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from masktrainer import safe_io
from masktrainer.methods.upgrade import config_values
from masktrainer.protocols import label as protocol_label
from masktrainer.protocols import selection_set
from plotting import quantities as q
from plotting.groups import RunGroup, order_fields
from plotting.runs import Run

MARKDOWN_NAME = "summary.md"
CSV_NAME = "summary.csv"


def _protocol(run: Run) -> tuple[str | None, str]:
    """(``--protocol``, the set that selects the reported epoch) of a run; a run config of a
    version before ``--protocol`` is read as that version ran."""
    values = config_values(run.config)
    shape = SimpleNamespace(split=values.get("split") or "head",
                            eval_sets=values.get("eval_sets") or "val,test",
                            resnet_quirks=bool(values.get("resnet_quirks")))
    return values.get("protocol"), selection_set(shape)


def _best_val(run: Run) -> tuple[int, float, float, str] | None:
    """(epoch, selected accuracy, test accuracy, the set selected on) at the epoch the run's
    protocol selects (validation, or test where it selects on test, as the trainer's
    ``best``); the trained epochs first, the first one on ties."""
    selected_on = _protocol(run)[1]
    chosen = run.series.get(f"{selected_on}Accuracy")
    if (chosen is None or np.all(np.isnan(chosen))) and selected_on == "val":
        selected_on, chosen = "test", run.series.get("testAccuracy")  # no validation series
    if chosen is None or np.all(np.isnan(chosen)):
        return None
    trained = np.array(chosen, float)
    if len(trained) > 1 and not np.all(np.isnan(trained[1:])):
        trained[0] = np.nan  # epoch 0 only when nothing was trained
    epoch = int(np.nanargmax(trained))
    test = run.series.get("testAccuracy")
    test_value = math.nan if test is None else float(test[epoch]) * 100.0
    return epoch, float(chosen[epoch]) * 100.0, test_value, selected_on


def _stats(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    array = np.asarray([v for v in values if not math.isnan(v)], float)
    if not array.size:
        return None, None, None
    return float(array.mean()), float(array.min()), float(array.max())


def _final(group: RunGroup, quantity: q.Quantity) -> tuple[list[float], int | None]:
    found = group.final(quantity)
    if found is None:
        return [], None
    values, _ = found
    return [float(v) for v in values], len(values)


def summary_row(group: RunGroup, fields: Sequence[str]) -> dict[str, Any]:
    """One table row: the group's config fields followed by its statistics."""
    config = group.config
    row: dict[str, Any] = {"group": group.name}
    row.update({name: config.get(name) for name in fields})
    test, n_final = _final(group, q.series("testAccuracy"))
    val, _ = _final(group, q.series("valAccuracy"))
    best = [found for found in map(_best_val, group.runs) if found is not None]
    kind = q.sparsity_kind(config)
    sparsity, _ = _final(group, q.sparsity_pct)
    row["n_seeds"] = group.n
    row["seeds"] = " ".join(str(run.seed) for run in group.runs)  # sorted by seed
    row["n_complete"] = sum(run.complete for run in group.runs)
    row["epochs"] = group.n_points - 1
    row["n_final"] = n_final
    (
        row["final_test_acc_mean"],
        row["final_test_acc_min"],
        row["final_test_acc_max"],
    ) = _stats(test)
    row["final_val_acc_mean"] = _stats(val)[0]
    row["best_val_acc_mean"] = _stats([b[1] for b in best])[0]
    (
        row["best_val_epoch_mean"],
        row["best_val_epoch_min"],
        row["best_val_epoch_max"],
    ) = _stats([float(b[0]) for b in best])
    row["best_val_epochs"] = " ".join(str(b[0]) for b in best) or None
    row["best_selected_on"] = " ".join(sorted({b[3] for b in best})) or None
    (
        row["test_at_best_val_mean"],
        row["test_at_best_val_min"],
        row["test_at_best_val_max"],
    ) = _stats([b[2] for b in best])
    row["final_remaining_pct_mean"] = (
        _stats(sparsity)[0] if kind == q.REMAINING else None
    )
    row["final_flipped_pct_mean"] = _stats(sparsity)[0] if kind == q.FLIPPED else None
    protocols = {_protocol(run) for run in group.runs}
    row["protocol"] = " / ".join(sorted(protocol_label(*found) if found[0] else "—"
                                        for found in protocols)) or None
    return row


def summary_table(groups: Sequence[RunGroup]) -> list[dict[str, Any]]:
    """Rows (dicts with the same keys, in column order), one per group."""
    fields = order_fields({name for group in groups for name, _ in group.key})
    return [summary_row(group, fields) for group in groups]


def _number(value: float | None) -> str:
    """A percentage, with two decimals."""
    return "–" if value is None else f"{value:.2f}"


def _count(value: float | None) -> str:
    """An epoch or a mean of epochs: ``18``, or ``17.7`` when not whole."""
    if value is None:
        return "–"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _range(
    row: dict[str, Any], prefix: str, formatted: Callable[[float | None], str] = _number
) -> str:
    mean = row[f"{prefix}_mean"]
    if mean is None:
        return "–"
    low, high = row[f"{prefix}_min"], row[f"{prefix}_max"]
    if low == high:
        return formatted(mean)
    return f"{formatted(mean)} [{formatted(low)}–{formatted(high)}]"


def to_markdown(rows: Sequence[dict[str, Any]], source: str | None = None) -> str:
    """A readable Markdown table with explanatory notes."""
    header = (
        "Configuration",
        "Seeds",
        "Epochs",
        "Final test acc. (%)",
        "Final val. acc. (%)",
        "Best val. acc. (%)",
        "Best-val. epoch",
        "Test acc. at best val. (%)",
        "Remaining weights / flipped signs (%)",
        "Protocol",
    )
    lines = ["# Summary of runs" + (f" in `{source}`" if source else ""), ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    for row in rows:
        seeds = str(row["n_seeds"])
        incomplete = row["n_seeds"] - row["n_complete"]
        if incomplete:
            seeds += f" ({incomplete} incomplete)"
        if row["final_flipped_pct_mean"] is not None:
            sparsity = f"{_number(row['final_flipped_pct_mean'])} flipped"
        elif row["final_remaining_pct_mean"] is not None:
            sparsity = f"{_number(row['final_remaining_pct_mean'])} remaining"
        else:
            sparsity = "–"
        cells = (
            row["group"].replace("|", "\\|"),
            seeds,
            str(row["epochs"]),
            _range(row, "final_test_acc"),
            _number(row["final_val_acc_mean"]),
            _number(row["best_val_acc_mean"])
            + (" (test)" if row["best_selected_on"] == "test" else ""),
            _range(row, "best_val_epoch", _count),
            _range(row, "test_at_best_val"),
            sparsity,
            row["protocol"] or "–",
        )
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Values are the mean over seeds, with [min–max] where seeds differ.",
        "Final: last epoch reached by the longest runs of a configuration"
        " (averaged over the runs that reached it).",
        "Best val.: per run, the epoch of highest validation accuracy; test"
        " accuracy is read at that epoch. \"(test)\": a run whose protocol selects on test"
        " (the original's protocol of hidden-networks and LaPerm: `best test`), or that has"
        " no validation, is read at its best test epoch instead.",
        "",
    ]
    return "\n".join(lines)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    return round(value, 6) if isinstance(value, float) else value


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """All columns (config fields and statistics) as CSV text."""
    buffer = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_cell(value) for key, value in row.items()})
    return buffer.getvalue()


def write_summary(
    groups: Sequence[RunGroup],
    out: str | os.PathLike[str],
    source: str | None = None,
) -> list[Path]:
    """Write ``summary.md`` and ``summary.csv`` into ``out``; returns the paths."""
    rows = summary_table(groups)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    markdown, table = out / MARKDOWN_NAME, out / CSV_NAME
    safe_io.atomic_write_text(markdown, to_markdown(rows, source))  # never through a link
    safe_io.atomic_write_text(table, to_csv(rows))
    return [markdown, table]
