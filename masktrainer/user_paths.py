"""Paths the user gives: checked before any work, so a bad one is one line (exit status 2).

:func:`given_path` looks a given path up once: a control character in it (a newline would split
every message naming it), or an error other than "missing" (a name over the file system's
limit, a folder that cannot be searched), is :class:`RunStateError` with one line.
:func:`folder_problem` says why an output folder cannot be created or written. Both are
re-exported by :mod:`masktrainer.safe_io`. No TensorFlow is imported here.
"""

from __future__ import annotations

import errno
import os
import unicodedata
from pathlib import Path

from masktrainer.errors import RunStateError

#: Room a run needs below its folder: run-<hex>/checkpoint/ckpt-<step>.data-00000-of-00001
#: and the temporary names next to the files.
PATH_MARGIN = 100


def os_reason(err: OSError) -> str:
    """An OSError's reason for a one-line message ("Permission denied", ...)."""
    return err.strerror or type(err).__name__


#: Categories refused in paths and settings: C0 controls, DEL and C1 controls (Cc), and the
#: line and paragraph separators U+2028 / U+2029 (Zl, Zp), where ``str.splitlines`` also
#: breaks lines.
_REFUSED = ("Cc", "Zl", "Zp")


def control_character(text: str) -> str | None:
    """The first control character of ``text`` as a message names it ("a NUL character",
    "a control character ('\\n')", "a line separator ('\\u2028')"), or None: a path holding
    one (a newline would split every message naming it) is refused by :func:`given_path`,
    :func:`folder_problem` and the string settings' ``Option.check``."""
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            return "a NUL character" if char == "\x00" else f"a control character ({char!r})"
        if category in _REFUSED:
            return f"a line separator ({char!r})"
    return None


def shown(text: str | os.PathLike) -> str:
    """``text`` for a one-line message: control characters written as escapes."""
    text = os.fsdecode(text)
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in _REFUSED else c for c in text)


def given_path(value: str | os.PathLike, flag: str = "") -> Path:
    """A path given by the user, expanded, once ``lstat`` showed it can be looked up: a control
    character in it, or an error other than "missing" (a name over 255 bytes, a folder that
    cannot be searched) is RunStateError, one line, so the caller's exists()/is_dir() checks
    cannot raise and no message naming it spans two lines."""
    found = control_character(os.fsdecode(value))
    if found:
        raise RunStateError(f"{flag} {_short(shown(value))}: a path must not contain "
                            f"{found}".lstrip())
    path = Path(value).expanduser()
    try:
        os.lstat(path)
    except OSError as err:
        if err.errno not in (errno.ENOENT, errno.ENOTDIR):
            raise RunStateError(f"{flag} {_short(str(path))}: {os_reason(err)}".lstrip()) from None
    return path


def given_paths_problem(paths: dict[str, str | None]) -> str | None:
    """:func:`given_path`'s one line for the first ``{"--flag": path}`` it refuses, or None."""
    for flag, value in paths.items():
        try:
            None if value is None else given_path(value, flag)
        except RunStateError as err:
            return str(err)
    return None


def _short(text: str) -> str:
    return text if len(text) <= 80 else f"{text[:77]}..."


def folder_problem(path: str | os.PathLike) -> str | None:
    """Why a folder cannot be created or written at ``path``, or None if it can."""
    found = control_character(os.fsdecode(path))
    if found:
        return f"a path must not contain {found}"
    probe = Path(path).expanduser().absolute()
    name_max, path_max = _limits(_existing_ancestor(probe))
    too_long = [part for part in probe.parts if len(os.fsencode(part)) > name_max]
    if too_long:
        return f"the name {too_long[0][:40]}... is longer than {name_max} bytes"
    if len(os.fsencode(str(probe))) + PATH_MARGIN > path_max:
        return (f"the path is too long (the files of a run need it under "
                f"{path_max - PATH_MARGIN} bytes)")
    try:
        while not probe.exists():
            if probe.parent == probe:
                return "no part of it exists"
            probe = probe.parent
        if not probe.is_dir():
            return f"{probe} is a file, not a folder"
        if not os.access(probe, os.W_OK | os.X_OK):
            return f"{probe} is not writable"
    except OSError as err:
        return os_reason(err)
    return None


def _limits(folder: Path) -> tuple[int, int]:
    limits = []
    for name, fallback in (("PC_NAME_MAX", 255), ("PC_PATH_MAX", 4096)):
        try:
            limits.append(int(os.pathconf(folder, name)))
        except (OSError, ValueError, AttributeError):
            limits.append(fallback)
    return limits[0], limits[1]


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        try:
            if candidate.is_dir():
                return candidate
        except OSError:
            continue
    return Path(path.anchor or "/")
