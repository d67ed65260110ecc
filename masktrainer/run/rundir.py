"""Run directories: a fresh folder per run, safe formats only, never overwritten.

Layout: ``<the method's folder>/run-<7 hex>/`` (``Method.run_folder``;
self-pruning: the original's ``<outputpath>/<traintype>/<nettype>/P1_<p1>/
<masktype>_<activation>_<initializer>_LR<lr>``). Files: config.json,
metrics.json, metrics.csv, the method's .npz arrays, model.keras, train.log.
Every write goes through :mod:`masktrainer.safe_io` (atomic, never through a link).
No TensorFlow is imported here.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np

from masktrainer import safe_io
from masktrainer.errors import RunWriteError

# The run's input normalisation on raw 0..255 pixels: prepared = (raw - mean) / std, the
# arrays broadcastable to one image (``mean``, ``std``); an export puts it in front.
PREPROCESSING_NAME = "preprocessing.npz"


def _csv_cell(value: Any) -> Any:
    return "" if value is None else value


class RunDirectory:
    """One run's folder; every write is atomic (a killed run leaves valid files)."""

    def __init__(self, path: Path, echo: Callable[[str], None] | None = print) -> None:
        self.path = Path(path)
        self.run_id = self.path.name.removeprefix("run-")
        self._echo = echo

    @classmethod
    def create(cls, parent: Path, echo: Callable[[str], None] | None = print,
               root: Path | None = None) -> "RunDirectory":
        """Create ``parent/run-<7 hex>``; never reuses an existing folder. Every folder
        between ``root`` (the output root) and ``parent`` is checked as it is created: a link
        planted on the way is refused, never followed."""
        safe_io.make_folders(parent, parent if root is None else root)
        try:
            for _ in range(100):
                path = parent / f"run-{uuid.uuid4().hex[-7:]}"
                try:
                    path.mkdir()
                except FileExistsError:
                    continue
                return cls(path, echo)
        except OSError as err:
            raise RunWriteError(f"cannot create a run folder in {parent}: "
                                f"{err.strerror or type(err).__name__}") from None
        raise RunWriteError(f"could not create a fresh run folder in {parent}")

    def log(self, line: str, terminal: str | None = None, echo: bool = True) -> None:
        """Print ``terminal`` (default ``line``; nothing if not ``echo``: what the caller
        prints itself) and append ``line`` to train.log."""
        if self._echo is not None and echo:
            self._echo(line if terminal is None else terminal)
        safe_io.append_line(self.path / "train.log", line)

    def write_json(self, name: str, payload: Any) -> Path:
        return safe_io.atomic_write_json(self.path / name, payload)

    def write_metrics(
        self,
        metrics: dict[str, Any],
        flat_keys: tuple[str, ...],
        per_layer_fields: dict[str, list[str]],
    ) -> None:
        """metrics.json (all keys) and metrics.csv (one row per epoch).

        ``flat_keys``: the per-epoch number series; ``per_layer_fields``: per-epoch
        per-layer series and the names of their values, written as
        ``<layer>:<field>`` columns.
        """
        self.write_json("metrics.json", metrics)
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
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        safe_io.atomic_write_text(self.path / "metrics.csv", text.getvalue())

    def save_arrays(self, name: str, arrays: dict[str, np.ndarray]) -> Path:
        """An uncompressed .npz of plain numeric arrays (loads with allow_pickle=False)."""
        target = self.path / name
        if target.parent != self.path:  # e.g. selections/ of Slot Machines
            safe_io.refuse_link(target.parent)
            try:
                target.parent.mkdir(exist_ok=True)
            except OSError as err:
                raise RunWriteError(f"cannot create {target.parent}: {err.strerror}") from None
        plain = {k: np.asarray(v) for k, v in arrays.items()}
        return safe_io.atomic_write(target, lambda handle: np.savez(handle, **plain))


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a run's .npz without ever unpickling, each member's declared size checked first
    (RunStateError for one that declares more than the file holds)."""
    from masktrainer.npz import load_npz

    return load_npz(path)
