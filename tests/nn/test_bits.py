"""masktrainer.nn.bits: flags and small indices packed into bytes, and the checks on unpacking."""

import numpy as np
import pytest

from masktrainer.nn.bits import (
    BitsError,
    index_bits,
    pack_flags,
    pack_indices,
    unpack_flags,
    unpack_indices,
)


def test_flags_pack_eight_per_byte_and_round_trip():
    flags = np.random.RandomState(0).rand(3, 5, 7) > 0.5
    packed = pack_flags(flags)
    assert packed.dtype == np.uint8 and packed.shape == (14,)  # ceil(105 / 8)
    np.testing.assert_array_equal(unpack_flags(packed, (3, 5, 7)), flags)
    np.testing.assert_array_equal(pack_flags([True] + [False] * 7), [128])


@pytest.mark.parametrize("choices,bits", [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (8, 3), (9, 4)])
def test_index_bits_is_the_ceiling_of_log2_and_at_least_one(choices, bits):
    assert index_bits(choices) == bits


def test_indices_round_trip_most_significant_bit_first():
    index = np.random.RandomState(1).randint(0, 5, size=(4, 6))
    packed = pack_indices(index, 3)
    assert packed.shape == (9,)  # 24 indices x 3 bits
    np.testing.assert_array_equal(unpack_indices(packed, (4, 6), 3), index)
    np.testing.assert_array_equal(pack_indices([1, 2], 2), [0b01100000])


def test_a_packed_array_that_does_not_fit_its_shape_is_refused():
    with pytest.raises(BitsError, match="2 bytes, 1 are needed"):
        unpack_flags(np.zeros(2, np.uint8), (8,))
    with pytest.raises(BitsError, match="1-D uint8"):
        unpack_flags(np.zeros(1, np.int32), (8,))
    with pytest.raises(BitsError, match="bytes"):
        unpack_indices(np.zeros(1, np.uint8), (4,), 3)
