"""Training-time augmentation as Keras preprocessing layers (active in training only).

``--augment`` chooses one of the originals' pipelines for any method:

* ``flip``: random horizontal flip (Slot Machines' CIFAR-10 transform);
* ``crop_flip``: pad 4 and crop back at a random offset, then flip (edge-popup /
  hidden-networks' CIFAR-10 ``RandomCrop(32, padding=4)`` + ``RandomHorizontalFlip``);
* ``shift_flip``: shifts of up to 10 % and flips (the self-pruning ResNet20's
  ``ImageDataGenerator``);
* ``notebook``: the LaPerm notebooks' rotation / zoom / shift (/ flip) per model
  (:mod:`laperm.augment`).

The layers draw from Keras seed generators seeded by the run seed; their state
is a model variable, so checkpoints carry it and a resumed run continues the
same random stream.
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
import tensorflow as tf

from masktrainer.nn.names import AUGMENTATIONS

_PACKAGE = "masktrainer"
CROP_PADDING = 4  # hidden-networks: RandomCrop(32, padding=4)
SHIFT = 0.1  # the self-pruning ResNet20: width/height_shift_range 0.1


@keras.saving.register_keras_serializable(package=_PACKAGE)
class RandomPadCrop(keras.layers.Layer):
    """Pad every side by ``padding`` with ``fill`` (per channel) and crop back at a random offset.

    The same as torchvision's ``RandomCrop(size, padding)``: integer shifts of up
    to ``padding`` pixels, the uncovered border filled with ``fill`` (the
    normalised value of a black pixel, so the border is black as in the original,
    which pads before normalising).
    """

    def __init__(self, padding: int = CROP_PADDING, fill: Sequence[float] | float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(padding) < 1:
            raise ValueError(f"padding must be >= 1, got {padding!r}")
        self.padding = int(padding)
        self.fill = [float(v) for v in (fill if isinstance(fill, Sequence) else [fill])]
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        if not training:
            return inputs
        p = self.padding
        shape = tf.shape(inputs)
        batch, height, width = shape[0], shape[1], shape[2]
        fill = tf.cast(tf.constant(self.fill), inputs.dtype)
        paddings = [[0, 0], [p, p], [p, p], [0, 0]]
        border = tf.pad(tf.zeros_like(inputs[:1, :, :, :1]), paddings, constant_values=1)
        padded = tf.pad(inputs, paddings) + border * fill  # exact: interior pixels add 0
        offsets = keras.random.randint((batch, 2), 0, 2 * p + 1, seed=self.seed_generator)
        rows = offsets[:, :1] + tf.range(height)[None, :]
        cols = offsets[:, 1:] + tf.range(width)[None, :]
        cropped = tf.gather(padded, rows, axis=1, batch_dims=1)
        return tf.gather(cropped, cols, axis=2, batch_dims=1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self.padding, "fill": self.fill,
                "seed": self.seed}


def augmentation(kind: str, *, nettype: str, seed: int, fill: Sequence[float] | None = None,
                 ) -> keras.Sequential | None:
    """The ``--augment`` pipeline ``kind`` (None for ``none``), seeded from ``seed``."""
    if kind not in AUGMENTATIONS:
        raise ValueError(f"augment must be one of {AUGMENTATIONS}, got {kind!r}")
    if kind == "none":
        return None
    if kind == "notebook":
        from laperm.augment import augmentation as notebook_augmentation

        return notebook_augmentation(nettype, seed=seed)
    layers: list[keras.layers.Layer] = []
    if kind == "shift_flip":  # seeds as the ResNet20 of the previous versions
        layers.append(keras.layers.RandomTranslation(SHIFT, SHIFT, fill_mode="nearest",
                                                     seed=seed))
    elif kind == "crop_flip":
        layers.append(RandomPadCrop(CROP_PADDING, fill or 0.0, seed=seed + 2))
    layers.append(keras.layers.RandomFlip("horizontal", seed=seed + 1))
    return keras.Sequential(layers, name="augmentation")
