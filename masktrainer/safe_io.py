"""Writing and reading the library's files safely: never through a link, never half-written.

Every file the library writes goes through :func:`atomic_write` (or
:func:`atomic_write_path` for writers that want a path): a temporary file with a fresh
random name is created exclusively (``O_EXCL``: a planted file or link of that name is never
opened) in the target's own folder, written, fsynced and renamed over the target, and the
folder is fsynced. A target, or its folder, that is a link is refused. :func:`append_line`
appends to a log without following a link. Operating-system errors (full disk, over-long
names, permissions) become :class:`RunWriteError` naming the file.

Reads of state go through :func:`read_regular`: regular files within a size limit only,
opened without blocking, so a FIFO or a link to ``/dev/zero`` named like a run file can
neither hang nor exhaust the reader. No TensorFlow is imported here.
"""

from __future__ import annotations

import errno
import io
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, BinaryIO, Callable

from masktrainer.errors import RunStateError, RunWriteError
from masktrainer.user_paths import (  # noqa: F401  (re-exported: the library's one I/O module)
    PATH_MARGIN,
    control_character,
    folder_problem,
    given_path,
    given_paths_problem,
    os_reason,
)

#: The largest JSON state file read (a run's config, metrics, resume state).
JSON_LIMIT = 64 * 2**20
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def refuse_link(path: str | os.PathLike) -> None:
    """RunStateError if ``path`` itself is a symbolic link."""
    if Path(path).is_symlink():
        raise RunStateError(f"{path} is a link; the library never reads or writes run files "
                            "through links (replace it with the real file or folder)")


def refuse_links_in(folder: str | os.PathLike, depth: int = 2) -> None:
    """RunStateError naming the first link found in ``folder`` (``depth`` levels down)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as err:
        raise RunStateError(f"cannot read the folder {folder}: {os_reason(err)}") from None
    for entry in entries:
        if entry.is_symlink():
            raise RunStateError(f"{entry.path} is a link; a run directory must hold only its "
                                "own files (replace the link with the real file or remove it)")
        if depth > 1 and entry.is_dir(follow_symlinks=False):
            refuse_links_in(entry.path, depth - 1)


def _temporary(target: Path, suffix: str) -> tuple[int, Path]:
    """A new, exclusively created, empty file next to ``target``."""
    refuse_link(target.parent)
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp{suffix}")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise RunWriteError(f"cannot create a temporary file next to {target}")


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except OSError:
        return  # e.g. a platform without directory handles: the rename itself is atomic
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the file itself was synced
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _finish(tmp: Path, target: Path) -> None:
    refuse_link(target)  # a link planted while we wrote: replace nothing through it
    os.replace(tmp, target)  # replaces the name, never writes through what it pointed at
    _fsync_folder(target.parent)


def _replace(target: str | os.PathLike, suffix: str, fill: Callable[[int, Path], None]) -> Path:
    """Create the temporary file, let ``fill(fd, tmp)`` write and sync (and close ``fd``), then
    rename it over ``target``; OS errors become RunWriteError naming ``target``."""
    target = Path(target)
    refuse_link(target)
    try:
        fd, tmp = _temporary(target, suffix)
        try:
            fill(fd, tmp)
            _finish(tmp, target)
        except BaseException:
            _unlink_quietly(tmp)
            raise
    except OSError as err:
        raise RunWriteError(f"cannot write {target}: {os_reason(err)}") from None
    return target


def atomic_write(target: str | os.PathLike, write: Callable[[BinaryIO], None],
                 suffix: str = "") -> Path:
    """Write ``target`` through ``write(handle)`` into a fresh temporary file, then rename."""

    def fill(fd: int, tmp: Path) -> None:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())

    return _replace(target, suffix, fill)


def atomic_write_text(target: str | os.PathLike, text: str) -> Path:
    # A path that is not UTF-8 (surrogate-escaped by Python) is written as \udcXX: the file
    # stays valid UTF-8 and the rest of it is kept.
    return atomic_write(target,
                        lambda handle: handle.write(text.encode("utf-8", "backslashreplace")))


def atomic_write_texts(texts: dict[Path, str]) -> None:
    """Write several text files as one: every temporary file is written and synced before
    any is renamed, so a refused write (a link, a full disk) replaces none of them."""
    staged: list[tuple[Path, Path]] = []
    current = Path(next(iter(texts), "."))
    try:
        try:
            for target, text in texts.items():
                target = current = Path(target)
                refuse_link(target)
                fd, tmp = _temporary(target, "")
                staged.append((tmp, target))
                with os.fdopen(fd, "wb") as handle:
                    handle.write(text.encode("utf-8", "backslashreplace"))
                    handle.flush()
                    os.fsync(handle.fileno())
            for _, target in staged:
                current = target
                refuse_link(target)
                if target.exists() and not target.is_file():
                    raise RunStateError(f"{target} is not a regular file (a folder or a device)")
            while staged:
                current = staged[0][1]
                _finish(*staged[0])
                staged.pop(0)
        except OSError as err:
            raise RunWriteError(f"cannot write {current}: {os_reason(err)}") from None
    finally:
        for tmp, _ in staged:
            _unlink_quietly(tmp)


def atomic_write_json(target: str | os.PathLike, payload: Any) -> Path:
    return atomic_write_text(target, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def atomic_write_path(target: str | os.PathLike, write: Callable[[Path], None],
                      suffix: str = "") -> Path:
    """Like :func:`atomic_write` for writers that take a path (``model.save`` wants
    ``.keras``): ``write`` fills the exclusively created temporary file ``<...><suffix>``."""

    def fill(fd: int, tmp: Path) -> None:
        os.close(fd)
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    return _replace(target, suffix, fill)


def make_folders(path: str | os.PathLike, root: str | os.PathLike) -> Path:
    """Create ``path`` and every missing folder between ``root`` and it, one level at a time;
    each level below ``root`` must be a real folder, never a link (RunStateError naming it),
    so a link planted inside the output tree cannot redirect what is written below it.
    ``root`` itself (the user's own choice) is created as needed and may be reached through
    links. OS errors become RunWriteError naming the folder."""
    path, root = Path(path), Path(root)
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise RunStateError(f"{path} is not below {root}") from None
    if ".." in parts:
        raise RunStateError(f"{path} leaves {root} ('..' in the path)")
    current = root
    try:
        root.mkdir(parents=True, exist_ok=True)
        for part in parts:
            current = current / part
            try:
                os.mkdir(current)
            except FileExistsError:
                pass
            info = os.lstat(current)
            if stat.S_ISLNK(info.st_mode):
                refuse_link(current)
            if not stat.S_ISDIR(info.st_mode):
                raise RunStateError(f"{current} is a file, not a folder")
    except OSError as err:
        raise RunWriteError(f"cannot create {current}: {os_reason(err)}") from None
    return path


def open_folder(path: str | os.PathLike, dir_fd: int | None = None,
                shown: str | os.PathLike | None = None) -> int:
    """A handle on the folder ``path`` (relative to ``dir_fd`` if given) opened without following
    a link in its last part: writes made relative to it stay in that folder whatever is renamed
    or planted meanwhile. RunStateError if it is a link or not a folder (``shown`` names it)."""
    shown = path if shown is None else shown
    try:
        return os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR):  # Linux: ENOTDIR for a link
            try:
                is_link = stat.S_ISLNK(os.lstat(path, dir_fd=dir_fd).st_mode)
            except OSError:
                is_link = err.errno != errno.ENOTDIR
            if is_link:
                raise RunStateError(f"{shown} is a link; the library never reads or writes "
                                    "run files through links (replace it with the real "
                                    "folder)") from None
            raise RunStateError(f"{shown} is not a folder") from None
        raise RunWriteError(f"cannot open the folder {shown}: {os_reason(err)}") from None


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append ``line`` to a log file that must be a regular file of its own (no link)."""
    path = Path(path)
    data = (line + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o666)
    except OSError as err:
        if path.is_symlink():
            refuse_link(path)
        raise RunWriteError(f"cannot write {path}: {os_reason(err)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise RunStateError(f"{path} is not a regular file of this run (a device, FIFO or "
                                "hard link); refusing to append to it")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as err:
        raise RunWriteError(f"cannot write {path}: {os_reason(err)}") from None
    finally:
        os.close(fd)


def read_regular(path: str | os.PathLike, limit: int = JSON_LIMIT) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (RunStateError otherwise)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC)  # a FIFO never blocks the open
    except OSError as err:
        raise RunStateError(f"cannot read {path}: {os_reason(err)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RunStateError(f"{path} is not a regular file (a device, FIFO or folder)")
        if info.st_size > limit:
            raise RunStateError(f"{path} is larger than {limit:,} bytes; refusing to read it")
        with io.FileIO(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as err:
        raise RunStateError(f"cannot read {path}: {os_reason(err)}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise RunStateError(f"{path} is larger than {limit:,} bytes; refusing to read it")
    return data


def check_regular(path: str | os.PathLike) -> Path:
    """``path`` if it names a regular file (following links), else RunStateError."""
    try:
        info = os.stat(path)
    except OSError as err:
        raise RunStateError(f"cannot read {path}: {os_reason(err)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise RunStateError(f"{path} is not a regular file (a device, FIFO or folder)")
    return Path(path)


def read_json_object(path: str | os.PathLike, limit: int = JSON_LIMIT) -> dict[str, Any]:
    """A JSON object from a regular file (RunStateError naming the file otherwise)."""
    data = read_regular(path, limit)
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise RunStateError(f"{path} is not valid JSON ({reason})") from None
    if not isinstance(value, dict):
        raise RunStateError(f"{path} must hold a JSON object (got {type(value).__name__})")
    return value
