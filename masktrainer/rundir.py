"""Run directories: a fresh folder per run, safe formats only, never overwritten.

Layout: ``<outputpath>/<traintype>/<nettype>/P1_<p1>/<masktype>_<activation>_
<initializer>_LR<lr>/run-<7 hex>/`` (the original's folder plus one folder per
run). Files: config.json, metrics.json, metrics.csv, initial_weights.npz,
masks.npz, final_weights.npz (when kernels train), model.keras, train.log.
"""

from __future__ import annotations

import csv
import json
import os
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np

from masktrainer.stats import COUNT_FIELDS

PER_EPOCH_KEYS = (
    "trainLoss",
    "valLoss",
    "testLoss",
    "trainAccuracy",
    "valAccuracy",
    "testAccuracy",
    "remainingWeights",
)


def group_folder(outputpath: str, traintype: str, nettype: str, p1: float, masktype: str,
                 activation: str, initializer: str, lr: float) -> Path:
    """The original's folder for runs of one configuration."""
    return (
        Path(outputpath) / traintype / nettype / f"P1_{p1}"
        / f"{masktype}_{activation}_{initializer}_LR{lr}"
    )


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class RunDirectory:
    """One run's folder; every write is atomic (a killed run leaves valid files)."""

    def __init__(self, path: Path, echo: Callable[[str], None] | None = print) -> None:
        self.path = Path(path)
        self.run_id = self.path.name.removeprefix("run-")
        self._echo = echo

    @classmethod
    def create(cls, parent: Path, echo: Callable[[str], None] | None = print) -> "RunDirectory":
        """Create ``parent/run-<7 hex>``; never reuses an existing folder."""
        parent.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            path = parent / f"run-{uuid.uuid4().hex[-7:]}"
            try:
                path.mkdir()
            except FileExistsError:
                continue
            return cls(path, echo)
        raise RuntimeError(f"could not create a fresh run folder in {parent}")

    def log(self, line: str) -> None:
        """Print ``line`` and append it to train.log."""
        if self._echo is not None:
            self._echo(line)
        with open(self.path / "train.log", "a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def write_json(self, name: str, payload: Any) -> Path:
        target = self.path / name
        _atomic_write_text(target, json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return target

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """metrics.json (all keys) and metrics.csv (one row per epoch)."""
        self.write_json("metrics.json", metrics)
        layers = metrics.get("layer_names", [])
        header = ["epoch", *PER_EPOCH_KEYS, "epochSeconds"]
        header += [f"{layer}:{field}" for layer in layers for field in COUNT_FIELDS]
        rows = []
        for epoch in range(len(metrics["trainLoss"])):
            row = [epoch] + [metrics[key][epoch] for key in PER_EPOCH_KEYS]
            row.append(metrics["epochSeconds"][epoch])
            for counts in metrics["remainingWeightsPerLayer"][epoch]:
                row.extend(counts)
            rows.append(row)
        tmp = self.path / "metrics.csv.tmp"
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(tmp, self.path / "metrics.csv")

    def save_arrays(self, name: str, arrays: dict[str, np.ndarray]) -> Path:
        """An uncompressed .npz of plain numeric arrays (loads with allow_pickle=False)."""
        target = self.path / name
        tmp = self.path / (name + ".tmp.npz")
        np.savez(tmp, **{k: np.asarray(v) for k, v in arrays.items()})
        os.replace(tmp, target)
        return target


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a run's .npz without ever unpickling."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
