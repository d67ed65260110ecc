"""``python -m masktrainer export RUN_DIR``: a finished run as a plain Keras model and compactly.

``--out DIR`` (default ``RUN_DIR/export``) receives ``plain.keras`` (standard
Keras layers, effective kernels folded in) and/or ``compact.npz`` (the learned
bits over weights regenerated from the run's config; see
:mod:`masktrainer.export.compact`), as chosen by ``--formats``. A missing,
incomplete or foreign run directory (or one holding links) is a one-line
``masktrainer: error: ...`` with exit status 2, before anything is written; so is
an ``--out`` that already holds an export, unless ``--overwrite`` is given. Files
are written atomically and never through a link; a write the operating system
refuses (full disk, ...) is one line with exit status 1, earlier exports intact.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

from absl import flags

from masktrainer import layout, safe_io
from masktrainer.commands import SUBCOMMANDS, UsageError, entry, parse_flags, wants_help
from masktrainer.errors import (
    FAILED_EXIT,
    USAGE_EXIT,
    ConfigError,
    RunStateError,
    RunWriteError,
    interrupt_signal,
    sigterm_as_interrupt,
)
from masktrainer.export import COMPACT_NAME, PLAIN_NAME
from masktrainer.quiet import import_tensorflow
from masktrainer.run.lock import RunLock

FORMATS = ("plain", "compact")
FILE_NAMES = {"plain": PLAIN_NAME, "compact": COMPACT_NAME}


class ExportError(Exception):
    """A bad command line or run directory: one line on stderr, exit status 2."""


@dataclasses.dataclass
class ExportResult:
    files: dict[str, Path]
    dense_bytes: int
    compact_bytes: int | None  # the .npz file (compressed)
    payload_bytes: int | None  # its arrays uncompressed (bit masks at 1 bit per weight)

    @property
    def ratio(self) -> float | None:
        """Compact file size / dense float32 kernel bytes."""
        if self.compact_bytes is None or not self.dense_bytes:
            return None
        return self.compact_bytes / self.dense_bytes


def check_run_dir(run_dir: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """The run folder and its config, or ExportError naming what is wrong."""
    path = safe_io.given_path(run_dir, "run directory")
    if not path.exists():
        raise ExportError(f"run directory {path} does not exist")
    if not path.is_dir():
        raise ExportError(f"{path} is not a directory")
    if not layout.has_run_files(path):
        raise ExportError(f"{path} is not a run directory ({layout.CONFIG_FILE} and "
                          f"{layout.METRICS_FILE} needed)")
    try:
        safe_io.refuse_links_in(path)
        config, status = layout.read_config(path), layout.read_status(path)
    except RunStateError as err:
        raise ExportError(str(err)) from None
    if status != layout.COMPLETE:
        raise ExportError(f"run {path} is incomplete ({layout.METRICS_FILE} status {status!r})")
    if not os.path.lexists(path / layout.MODEL_FILE):
        raise ExportError(f"run {path} has no {layout.MODEL_FILE}")
    try:  # a folder (or a device) in the model's place is damage, said as such
        safe_io.check_regular(path / layout.MODEL_FILE)
    except RunStateError as err:
        raise ExportError(str(err)) from None
    seed = config.get("resolved_seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 1:
        raise ExportError(f"{path / layout.CONFIG_FILE} has no valid resolved_seed "
                          f"(got {seed!r})")
    return path, config


def parse_formats(value: str) -> tuple[str, ...]:
    """"plain,compact" -> ("plain", "compact"), or ExportError."""
    chosen = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in FORMATS]
    if not chosen or unknown:
        raise ExportError(f"--formats takes a comma list of {', '.join(FORMATS)} (got {value!r})")
    return chosen


def load_run_model(path: Path):
    """The saved model of the run folder ``path`` (checked by :func:`check_run_dir`), with
    the library's objects registered; ExportError if Keras cannot load it."""
    from masktrainer import load_model

    try:
        return load_model(path / layout.MODEL_FILE, compile=False)
    except Exception as err:  # keras raises many types for a bad archive
        name = type(err).__name__
        raise ExportError(f"{path / layout.MODEL_FILE} cannot be loaded ({name})") from None


def check_out_dir(out: Path, formats: Sequence[str], overwrite: bool) -> None:
    """ExportError if ``out`` cannot take the export: a link, a file, not writable, or
    holding an earlier export (without ``overwrite``)."""
    out = safe_io.given_path(out, "--out")
    if out.is_symlink():
        raise ExportError(f"--out {out} is a link; give the real folder")
    problem = safe_io.folder_problem(out)
    if problem:
        raise ExportError(f"--out {out} cannot be created or written: {problem}")
    present = [FILE_NAMES[f] for f in formats if os.path.lexists(out / FILE_NAMES[f])]
    for name in present:
        if (out / name).is_symlink():
            raise ExportError(f"{out / name} is a link; refusing to replace anything through it")
        if not (out / name).is_file():  # a folder in its place: refused now, not after the work
            raise ExportError(f"{out / name} is not a regular file (a folder or a device); "
                              "remove it or choose another --out")
    if present and not overwrite:
        raise ExportError(f"--out {out} already holds {', '.join(present)}; pass --overwrite "
                          "to replace it")


def export_run(
    run_dir: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    formats: Sequence[str] = FORMATS,
    echo: Callable[[str], None] | None = print,
    overwrite: bool = False,
) -> ExportResult:
    """Export a finished run; every file is computed before the first one is written.
    An existing export in ``out_dir`` is refused unless ``overwrite``."""
    from masktrainer.export.compact import CompactError, encode_run
    from masktrainer.export.plain import export_notes, to_plain_model

    path, config = check_run_dir(run_dir)
    out = Path(out_dir).expanduser() if out_dir is not None else path / layout.EXPORT_FOLDER
    check_out_dir(out, formats, overwrite)
    model = load_run_model(path)
    plain = to_plain_model(model)
    arrays = None
    if "compact" in formats:
        try:
            arrays = encode_run(model, config, reference=plain)
        except (CompactError, ConfigError) as err:
            raise ExportError(f"{path}: {err}") from None
    for note in export_notes(model):
        _say(echo, f"note: {note}")
    saved = plain  # the plain model as written: the run's preprocessing in front, if known
    if "plain" in formats:
        saved, note = _preprocessed(path, config, plain)
        _say(echo, f"note: {note}")

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunWriteError(f"cannot create {out}: {err.strerror}") from None
    lock = RunLock()  # exclusivity is atomic: one export at a time into one folder
    lock.acquire(out, busy=f"another export is writing into {out}; wait for it to finish")
    try:
        check_out_dir(out, formats, overwrite)  # again, under the lock: one may have finished
        return _write_export(out, formats, saved, plain, arrays, echo)
    finally:
        lock.release()


def _write_export(out: Path, formats: Sequence[str], saved: Any, plain: Any,
                  arrays: dict[str, Any] | None,
                  echo: Callable[[str], None] | None) -> ExportResult:
    from masktrainer.export.compact import save_compact
    from masktrainer.export.plain import kernel_bytes

    files: dict[str, Path] = {}
    if "plain" in formats:
        files["plain"] = safe_io.atomic_write_path(out / PLAIN_NAME, saved.save, suffix=".keras")
        _say(echo, f"plain Keras model: {files['plain']}")
    dense = kernel_bytes(plain)
    size = payload = None
    if arrays is not None:
        files["compact"] = save_compact(out / COMPACT_NAME, arrays)
        size = files["compact"].stat().st_size
        payload = sum(int(array.nbytes) for array in arrays.values())
        _say(echo, f"compact export: {files['compact']}")
    result = ExportResult(files, dense, size, payload)
    if result.ratio is not None:
        _say(echo, f"size: compact {size:,} bytes ({payload:,} uncompressed) vs dense float32 "
                   f"kernels {dense:,} bytes = {result.ratio:.4f} (1/{1 / result.ratio:.1f})")
    return result


def _preprocessed(path: Path, config: dict[str, Any], plain: Any) -> tuple[Any, str]:
    """The plain model with the run's preprocessing in front, and a
    note on what its inputs are."""
    from masktrainer.export.plain import with_preprocessing
    from masktrainer.run.rundir import load_arrays

    source = path / layout.PREPROCESSING_FILE
    if not os.path.lexists(source):  # a run of an earlier version, or streamed (ImageNet) data
        return plain, ("plain.keras takes inputs preprocessed as the run's (no "
                       f"{layout.PREPROCESSING_FILE} in the run)")
    try:  # present but a folder or a device: damaged, never taken for absent
        safe_io.check_regular(source)
        arrays = load_arrays(source)
        wrapped = with_preprocessing(plain, arrays["mean"], arrays["std"])
    except RunStateError as err:
        raise ExportError(str(err)) from None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise ExportError(f"{source} is unreadable ({type(err).__name__})") from None
    note = "plain.keras takes raw 0..255 pixels (its first layer normalises them as the run did"
    if config.get("normalization") == "per_set":
        note += "; per_set: with the training file's statistics, not each set's own"
    return wrapped, note + ")"


def _say(echo: Callable[[str], None] | None, line: str) -> None:
    if echo is not None:
        echo(line)


EXPORT_FLAGS = (  # name, default, help
    ("out", None, "output folder (default RUN_DIR/export)"),
    ("formats", ",".join(FORMATS), "comma list of: plain, compact"),
    ("overwrite", False, "replace an earlier export in --out (refused otherwise)"),
)


def _flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    for name, default, text in EXPORT_FLAGS:
        define = flags.DEFINE_bool if isinstance(default, bool) else flags.DEFINE_string
        define(name, default, text, flag_values=fv)
    return fv


def help_text() -> str:
    """``masktrainer export --help``."""
    lines = [f"usage: masktrainer {SUBCOMMANDS['export'].usage}", "",
             f"Write a finished run (RUN_DIR: a run directory holding {layout.MODEL_FILE}) as a "
             "plain "
             "Keras model and/or a compact file.", "", "Flags:"]
    for name, default, text in EXPORT_FLAGS:
        flag = f"--[no]{name}" if isinstance(default, bool) else f"--{name}"
        lines += entry(flag, text + (f". Default: {default}." if default is not None else "."))
    return "\n".join(lines) + "\n"


def export_main(argv: Sequence[str]) -> int:
    """``argv[0]`` is ``export``; returns the exit status."""
    if wants_help(argv):
        print(help_text(), end="")
        return 0
    fv = _flags()
    try:
        with sigterm_as_interrupt():  # SIGTERM takes the Ctrl-C path below
            rest = parse_flags(fv, argv)
            if len(rest) != 1:
                raise ExportError("export needs one RUN_DIR (a finished run directory)"
                                  if not rest else
                                  f"unexpected argument(s): {' '.join(rest[1:])}")
            run_dir, out_arg = rest[0], fv["out"].value
            if out_arg == "":  # Path("") is the current folder: never export there by accident
                raise ExportError("--out must not be empty")
            formats = parse_formats(fv["formats"].value)
            path, _ = check_run_dir(run_dir)  # fail before the heavy imports
            out = (Path(out_arg).expanduser() if out_arg is not None
                   else path / layout.EXPORT_FOLDER)
            check_out_dir(out, formats, fv["overwrite"].value)
            import_tensorflow()
            export_run(run_dir, out_arg, formats, overwrite=fv["overwrite"].value)
    except (ExportError, RunStateError, UsageError) as err:
        print(f"masktrainer: error: {err}", file=sys.stderr)
        return USAGE_EXIT
    except RunWriteError as err:
        print(f"masktrainer: error: {err}", file=sys.stderr)
        return FAILED_EXIT
    except KeyboardInterrupt as stop:
        status, name = interrupt_signal(stop)
        print(f"masktrainer: error: export interrupted ({name}); each file in --out is an "
              "earlier one or a complete new one (written whole or not at all)", file=sys.stderr)
        return status
    return 0
