"""Run directories: a fresh folder per run, safe formats only, never overwritten.

Layout (self-pruning): ``<outputpath>/<traintype>/<nettype>/P1_<p1>/<masktype>_
<activation>_<initializer>_LR<lr>/run-<7 hex>/`` (the original's folder plus one
folder per run); edge-popup and slot machines use the same depth with their
own parameters (:func:`config_group_folder`). Files: config.json, metrics.json,
metrics.csv, the method's .npz arrays, model.keras, train.log.
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


def config_group_folder(cfg: Any) -> Path:
    """The folder for runs of one configuration of any method."""
    if cfg.method == "self_pruning":
        return group_folder(cfg.outputpath, cfg.traintype, cfg.nettype, cfg.p1, cfg.masktype,
                            cfg.activation, cfg.initializer, cfg.lr)
    net = cfg.nettype if cfg.width_mult == 1.0 else f"{cfg.nettype}_x{cfg.width_mult}"
    root = Path(cfg.outputpath) / cfg.traintype / net
    if cfg.method == "laperm":
        keep = "" if cfg.random_keep_ratio is None else f"_KEEP{cfg.random_keep_ratio}"
        return root / f"K_{cfg.sync_period}{keep}" / f"{cfg.normalization}_LR{cfg.lr}"
    if cfg.method == "edge_popup":
        fan = "_scalefan" if cfg.scale_fan else ""
        return root / f"KEEP_{cfg.keep_ratio}" / f"{cfg.initializer}{fan}_{cfg.activation}_LR{cfg.lr}"
    slots = f"K_{cfg.slots}" if cfg.slots is not None else "K_source"
    what = "finetune" if cfg.method == "slot_finetune" else cfg.selection
    return root / slots / f"{what}_{cfg.activation}_LR{cfg.lr}"


def _csv_cell(value: Any) -> Any:
    return "" if value is None else value


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

    def write_metrics(
        self,
        metrics: dict[str, Any],
        flat_keys: tuple[str, ...] | None = None,
        per_layer_fields: dict[str, list[str]] | None = None,
    ) -> None:
        """metrics.json (all keys) and metrics.csv (one row per epoch).

        ``flat_keys``: the per-epoch number series (default: the self-pruning
        ones); ``per_layer_fields``: per-epoch per-layer series and the names of
        their values, written as ``<layer>:<field>`` columns (default: the
        self-pruning counts).
        """
        self.write_json("metrics.json", metrics)
        flat_keys = PER_EPOCH_KEYS if flat_keys is None else flat_keys
        if per_layer_fields is None:
            per_layer_fields = {"remainingWeightsPerLayer": list(COUNT_FIELDS)}
        layers = metrics.get("layer_names", [])
        header = ["epoch", *flat_keys, "epochSeconds"]
        for fields in per_layer_fields.values():
            header += [f"{layer}:{field}" for layer in layers for field in fields]
        rows = []
        for epoch in range(len(metrics["trainLoss"])):
            row = [epoch] + [_csv_cell(metrics[key][epoch]) for key in flat_keys]
            row.append(metrics["epochSeconds"][epoch])
            for key in per_layer_fields:
                for values in metrics[key][epoch]:
                    row.extend(_csv_cell(v) for v in values)
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
