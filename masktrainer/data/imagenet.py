"""ImageNet (ILSVRC 2012) streamed through tensorflow-datasets, never held in memory.

``--dataset imagenet2012 --manual_dir DIR`` builds tfds' ``imagenet2012`` from the official
``ILSVRC2012_img_train.tar`` and ``ILSVRC2012_img_val.tar`` in ``DIR`` (once; the
prepared records go to ``--tfds_data_dir``) and streams them, as hidden-networks'
``data/imagenet.py`` reads its image folders:

* training: ``RandomResizedCrop(size)`` (scale 0.08-1, ratio 3/4-4/3) and a horizontal
  flip, drawn per image from stateless seeds of (run seed, epoch, image index), so an
  epoch's batches are a function of (seed, epoch) and a resumed run sees the same ones;
* evaluation: resize the shorter side to ``size * 256 / 224``, centre crop ``size``;
* both: ``x / 255`` and the ImageNet per-channel mean/std (hidden-networks' constants).

The validation set is the official validation split, and so is the "test" split (the
original evaluates on it; there is no labelled test set). ``--image_size`` (default
224) makes small pipelines for tests.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from masktrainer.data.preprocessing import fixed_constants
from masktrainer.data.sources import import_tfds
from masktrainer.errors import DataError

NUM_CLASSES = 1000
SHUFFLE_BUFFER = 10_000
MANUAL_FILES = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")


class _Batches:
    def __init__(self, data: "ImageNetData", batch_size: int, seed: int) -> None:
        self.data, self.batch_size, self.seed = data, batch_size, seed
        self.steps = -(-data.sizes()["train"] // batch_size)

    def epoch(self, epoch: int) -> tf.data.Dataset:
        return self.data.training(epoch, self.batch_size, self.seed)


class ImageNetData:
    """The data protocol of :class:`~masktrainer.data.preprocessing.Splits`, streamed."""

    def __init__(self, manual_dir: str | None, tfds_data_dir: str | None,
                 image_size: int = 224) -> None:
        tfds = import_tfds()
        if manual_dir:
            missing = [name for name in MANUAL_FILES if not (Path(manual_dir) / name).is_file()]
            if missing:
                raise DataError(f"{', '.join(missing)} missing in --manual_dir {manual_dir} "
                                "(the official ILSVRC 2012 tarballs)")
        self.builder = tfds.builder("imagenet2012", data_dir=tfds_data_dir)
        try:
            config = tfds.download.DownloadConfig(manual_dir=manual_dir) if manual_dir else None
            self.builder.download_and_prepare(download_config=config)
        except Exception as err:  # tfds raises many types (missing files, corrupt tarballs)
            message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise DataError(f"tensorflow-datasets could not prepare imagenet2012: {message}; "
                            "give --manual_dir with the official tarballs") from err
        self.image_size = int(image_size)
        self.mean, self.std = fixed_constants("hidden_networks", "imagenet2012")
        splits = self.builder.info.splits
        self._sizes = {"train": splits["train"].num_examples,
                       "val": splits["validation"].num_examples,
                       "test": splits["validation"].num_examples}
        self.source = f"tensorflow-datasets imagenet2012 {self.builder.info.version} (streamed)"
        self.num_classes = NUM_CLASSES
        self.input_shape = (self.image_size, self.image_size, 3)

    def sizes(self) -> dict[str, int]:
        return dict(self._sizes)

    # -- images -------------------------------------------------------------------------------
    def _finish(self, image: tf.Tensor, label: tf.Tensor):
        image = (tf.cast(image, tf.float32) / 255.0 - self.mean) / self.std
        return image, tf.one_hot(label, NUM_CLASSES)

    def _train_image(self, index: tf.Tensor, example: tuple, seed: int, epoch: int):
        image, label = example
        key = tf.stack([tf.cast(seed, tf.int64) * 7919 + epoch, index])
        begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
            tf.shape(image), tf.zeros([1, 0, 4]), seed=key, area_range=(0.08, 1.0),
            aspect_ratio_range=(3 / 4, 4 / 3), min_object_covered=0.0,
            use_image_if_no_bounding_boxes=True)
        crop = tf.slice(image, begin, size)
        crop = tf.image.resize(crop, (self.image_size, self.image_size))
        crop = tf.image.stateless_random_flip_left_right(crop, seed=key + [0, 1])
        return self._finish(crop, label)

    def _eval_image(self, image: tf.Tensor, label: tf.Tensor):
        resize = round(self.image_size * 256 / 224)
        shape = tf.cast(tf.shape(image)[:2], tf.float32)
        scale = resize / tf.reduce_min(shape)
        image = tf.image.resize(image, tf.cast(tf.round(shape * scale), tf.int32))
        image = tf.image.resize_with_crop_or_pad(image, self.image_size, self.image_size)
        return self._finish(image, label)

    def _split(self, name: str, shuffle_seed: int | None = None) -> tf.data.Dataset:
        import tensorflow_datasets as tfds

        read = tfds.ReadConfig(shuffle_seed=shuffle_seed, try_autocache=False)
        return self.builder.as_dataset(split=name, as_supervised=True, read_config=read,
                                       shuffle_files=shuffle_seed is not None)

    # -- the data protocol --------------------------------------------------------------------
    def train_batches(self, batch_size: int, seed: int | None) -> _Batches:
        return _Batches(self, batch_size, int(seed or 0))

    def training(self, epoch: int, batch_size: int, seed: int) -> tf.data.Dataset:
        """The shuffled, augmented batches of one epoch, a function of (seed, epoch)."""
        epoch_seed = (seed * 1_000_003 + epoch) % 2**31
        data = self._split("train", epoch_seed).shuffle(SHUFFLE_BUFFER, seed=epoch_seed)
        data = data.enumerate().map(
            lambda i, example: self._train_image(i, example, seed, epoch),
            num_parallel_calls=tf.data.AUTOTUNE)
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def evaluation(self, split: str, batch_size: int, limit: int | None = None) -> dict:
        data = self._split("train" if split == "train" else "validation")
        if limit is not None:
            data = data.take(limit)
        data = data.map(self._eval_image, num_parallel_calls=tf.data.AUTOTUNE)
        return {"x": data.batch(batch_size).prefetch(tf.data.AUTOTUNE)}

    def train_subset(self, size: int, seed: int, epoch: int, batch_size: int) -> dict:
        epoch_seed = (seed * 1_000_003 + epoch) % 2**31
        data = self._split("train", epoch_seed).take(size).map(self._eval_image)
        return {"x": data.batch(batch_size).prefetch(tf.data.AUTOTUNE)}
