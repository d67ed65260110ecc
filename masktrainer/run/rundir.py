"""Run directories: a fresh folder per run, safe formats only, never overwritten.

Layout: ``<the method's folder>/run-<7 hex>/`` (``Recipe.run_folder``;
self-pruning: the original's ``<outputpath>/<traintype>/<nettype>/P1_<p1>/
<masktype>_<activation>_<initializer>_LR<lr>``). The files' names and formats are
:mod:`masktrainer.layout`'s. Every write goes through :mod:`masktrainer.safe_io`
(atomic, never through a link).
No TensorFlow is imported here.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np

from masktrainer import layout, safe_io
from masktrainer.errors import RunWriteError

# Re-exported for earlier importers: the format's facts live in masktrainer.layout.
from masktrainer.layout import BOOKKEEPING_KEYS, SETTING_KEYS, with_precision  # noqa: F401
from masktrainer.layout import PREPROCESSING_FILE as PREPROCESSING_NAME  # noqa: F401


class RunDirectory:
    """One run's folder; every write is atomic (a killed run leaves valid files)."""

    def __init__(self, path: Path, echo: Callable[[str], None] | None = print) -> None:
        self.path = Path(path)
        self.run_id = self.path.name.removeprefix(layout.RUN_FOLDER_PREFIX)
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
                path = parent / f"{layout.RUN_FOLDER_PREFIX}{uuid.uuid4().hex[-7:]}"
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
        prints itself) and append ``line`` to the run's log."""
        if self._echo is not None and echo:
            self._echo(line if terminal is None else terminal)
        safe_io.append_line(self.path / layout.LOG_FILE, line)

    def write_json(self, name: str, payload: Any) -> Path:
        return safe_io.atomic_write_json(self.path / name, payload)

    def write_config(self, config: dict[str, Any]) -> Path:
        return self.write_json(layout.CONFIG_FILE, config)

    def write_metrics(
        self,
        metrics: dict[str, Any],
        flat_keys: tuple[str, ...],
        per_layer_fields: dict[str, list[str]],
    ) -> None:
        """The metrics file (all keys) and its CSV (one row per epoch; see
        :func:`masktrainer.layout.metrics_csv`)."""
        self.write_json(layout.METRICS_FILE, metrics)
        csv_text = layout.metrics_csv(metrics, flat_keys, per_layer_fields)
        safe_io.atomic_write_text(self.path / layout.METRICS_CSV_FILE, csv_text)

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
