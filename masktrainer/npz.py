"""Reading ``.npz`` files with every member's declared size checked before it is loaded.

``np.load`` allocates what a member's ``.npy`` header declares before reading its bytes, so a
few-byte member declaring terabytes is a crash (or a machine out of memory), not an error.
Here each member's header is read first and its declared size compared with what the archive
can hold: exactly its uncompressed size in the zip directory, which is at most the archive's
own size for a stored member and at most deflate's largest ratio (1032:1) times its
compressed size for a compressed one. Never unpickles (``allow_pickle=False``).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from masktrainer.errors import RunStateError

# Deflate's largest expansion is 1032:1 (258-byte matches coded in 2 bits); any more is a lie.
DEFLATE_MAX_RATIO = 1032


def _declared_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> int:
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"npy format version {version}")
        if dtype.hasobject:
            raise RunStateError(f"{where}: {info.filename} holds Python objects; refusing it")
        return int(np.prod(shape, dtype=object)) * dtype.itemsize + member.tell()


def check_npz(path: str | os.PathLike) -> None:
    """RunStateError (one line) if a member declares more than the archive can hold."""
    path = Path(path)
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():  # np.load reads any member with the npy magic
            limit = size if info.compress_type == zipfile.ZIP_STORED else \
                DEFLATE_MAX_RATIO * info.compress_size
            with archive.open(info) as member:
                is_array = member.read(6) == b"\x93NUMPY"
            declared = _declared_bytes(archive, info, str(path)) if is_array else info.file_size
            if declared != info.file_size or info.file_size > limit:
                raise RunStateError(
                    f"{path}: member {info.filename} declares {declared:,} bytes; the archive "
                    f"holds {info.file_size:,} for it (at most {limit:,} possible): "
                    "refusing to load it")


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz``, each member's declared size checked first.

    RunStateError for a member that declares more than it holds; OSError, ValueError or
    zipfile.BadZipFile for a file that is not a readable archive, as ``np.load`` raises."""
    check_npz(path)
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
