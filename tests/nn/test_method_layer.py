"""The library's dense layers pass a padding mask through, as ``keras.layers.Dense`` does."""

import warnings

import keras
import numpy as np
import pytest

import masktrainer

DENSE = [keras.layers.Dense, masktrainer.MaskedDense, masktrainer.EdgePopupDense,
         masktrainer.SlotDense, masktrainer.SupermaskDense]
CONV = [masktrainer.MaskedConv2D, masktrainer.EdgePopupConv2D, masktrainer.SlotConv2D,
        masktrainer.SupermaskConv2D]


@pytest.mark.parametrize("cls", DENSE, ids=lambda c: c.__name__)
def test_embedding_padding_mask_passes_through_dense_layers(cls):
    tokens = np.array([[3, 5, 0, 0], [7, 0, 0, 0]])
    inputs = keras.Input((4,), dtype="int32")
    embedded = keras.layers.Embedding(20, 8, mask_zero=True)(inputs)
    hidden = cls(6)(embedded)
    pooled = keras.layers.GlobalAveragePooling1D()(hidden)  # averages unmasked steps only
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.Model(inputs, [hidden, pooled])
        steps, mean = model(tokens)
    assert not [w for w in caught if "mask" in str(w.message).lower()]
    assert cls(6).supports_masking
    steps = np.asarray(steps)
    expected = np.stack([steps[0, :2].mean(0), steps[1, :1].mean(0)])
    np.testing.assert_allclose(np.asarray(mean), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", CONV, ids=lambda c: c.__name__)
def test_conv_layers_support_masking_as_keras_conv2d(cls):
    assert cls(4).supports_masking == keras.layers.Conv2D(4, 3).supports_masking
