"""The notebooks' ``ImageDataGenerator`` augmentation as Keras preprocessing layers.

The returned ``keras.Sequential`` only changes its input when called with
``training=True`` (inside ``fit`` / ``train_on_batch``); at inference
(``predict``, ``evaluate``, ``training=False``) it is the identity. Put it in
front of the model (``keras.Sequential([augmentation(name), model])``) or map
it over a ``tf.data`` pipeline with ``training=True``.

Settings per model (all with ``fill_mode="nearest"``, the generator default):

* F1, F2: none (``None``).
* Conv7: rotation +-10 deg, zoom +-10 %, height/width shift +-10 %.
* Conv2, Conv4, Conv13: rotation +-15 deg, height/width shift +-10 %, horizontal flip.
* ResNet50: height/width shift +-10 %, horizontal flip.

Differences from ``ImageDataGenerator``: the generator composes rotation,
shift and zoom into one affine transform and resamples once (spline order 1);
here each layer resamples in turn with bilinear interpolation, so a combined
transform blurs slightly more, and the transforms apply in layer order
(rotation, zoom, shift, flip). Random draws come from Keras' seeded generators,
not from numpy, so augmented batches differ from the original's even with the
same seed. Zoom draws height and width factors independently, as the generator
does with a scalar ``zoom_range``.
"""

from __future__ import annotations

import keras
import numpy as np

from laperm.names import AUGMENTATION_SETTINGS, MODEL_NAMES, NOT_AUGMENTED

FILL_MODE = "nearest"
_MAX_SEED = 2**31 - 1




def augmentation(name: str, seed: int | None = None) -> keras.Sequential | None:
    """The training-time augmentation of notebook model ``name``; ``None`` for F1/F2.

    With an integer ``seed`` each random layer gets its own seed drawn from
    ``numpy.random.RandomState(seed)``.

    Raises:
        ValueError: ``name`` is not one of :data:`laperm.models.MODEL_NAMES`.
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown LaPerm model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    if name in NOT_AUGMENTED:
        return None
    rng = None if seed is None else np.random.RandomState(seed)

    def next_seed() -> int | None:
        return None if rng is None else int(rng.randint(0, _MAX_SEED))

    degrees, zoom, shift, flip = AUGMENTATION_SETTINGS[name]
    layers: list[keras.layers.Layer] = []
    if degrees:
        layers.append(
            keras.layers.RandomRotation(
                degrees / 360.0, fill_mode=FILL_MODE, seed=next_seed()
            )  # factor is a fraction of a full turn
        )
    if zoom:
        layers.append(
            keras.layers.RandomZoom(
                height_factor=(-zoom, zoom),
                width_factor=(-zoom, zoom),
                fill_mode=FILL_MODE,
                seed=next_seed(),
            )
        )
    if shift:
        layers.append(
            keras.layers.RandomTranslation(
                height_factor=(-shift, shift),
                width_factor=(-shift, shift),
                fill_mode=FILL_MODE,
                seed=next_seed(),
            )
        )
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=next_seed()))
    return keras.Sequential(layers, name=f"{name.lower()}_augmentation")
