"""Bit packing of what a layer learned (keep flags, signs, slot indices) for the compact format.

Plain numpy; every unpacking checks that the packed array holds exactly the
bytes the shape needs (``np.unpackbits`` would silently pad a short array).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


class BitsError(ValueError):
    """A packed array does not fit the shape it is unpacked into."""


def _check_length(packed: np.ndarray, bits: int) -> np.ndarray:
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim != 1:
        raise BitsError(f"packed bits must be a 1-D uint8 array (got {packed.dtype} {packed.shape})")
    needed = -(-bits // 8)
    if packed.size != needed:
        raise BitsError(f"packed bits hold {packed.size} bytes, {needed} are needed")
    return packed


def pack_flags(flags: np.ndarray) -> np.ndarray:
    """Booleans -> uint8 bytes, 8 flags per byte (C order)."""
    return np.packbits(np.asarray(flags, bool).reshape(-1))


def unpack_flags(packed: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Inverse of :func:`pack_flags` for an array of ``shape``."""
    count = math.prod(shape)
    packed = _check_length(packed, count)
    return np.unpackbits(packed, count=count).astype(bool).reshape(tuple(shape))


def index_bits(choices: int) -> int:
    """Bits per index for ``choices`` alternatives: ceil(log2 choices), at least 1."""
    return max(1, (int(choices) - 1).bit_length())


def pack_indices(index: np.ndarray, bits: int) -> np.ndarray:
    """Non-negative integers < 2**bits -> ``bits`` bits each (most significant first)."""
    flat = np.asarray(index, np.uint32).reshape(-1)
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint32)
    planes = (flat[:, None] >> shifts) & 1
    return np.packbits(planes.astype(np.uint8).reshape(-1))


def unpack_indices(packed: np.ndarray, shape: Sequence[int], bits: int) -> np.ndarray:
    """Inverse of :func:`pack_indices` (int64 array of ``shape``)."""
    count = math.prod(shape)
    packed = _check_length(packed, count * bits)
    planes = np.unpackbits(packed, count=count * bits).reshape(count, bits).astype(np.int64)
    weights = np.int64(1) << np.arange(bits - 1, -1, -1, dtype=np.int64)
    return (planes @ weights).reshape(tuple(shape))
