"""A run's data: its raw source, split and normalisation, as the configuration says."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits, prepare
from masktrainer.data.sources import load_raw
from masktrainer.data.splits import slot_machines_split
from masktrainer.errors import DataError

if TYPE_CHECKING:
    from masktrainer.data.imagenet import ImageNetData


def load_data(cfg: RunConfig) -> Splits | ImageNetData:
    """Raw data -> the configured split and normalisation (and the method's input scale)."""
    if cfg.dataset == "imagenet2012":  # streamed, never in memory
        from masktrainer.data.imagenet import ImageNetData

        return ImageNetData(cfg.manual_dir, cfg.tfds_data_dir, cfg.image_size)
    raw = load_raw(cfg.dataset, cfg.data_source, cfg.data_dir, cfg.manual_dir, cfg.tfds_data_dir)
    scale = methods.method_of(cfg).runtime.input_scale(cfg, raw.x_train.shape[1:], raw.num_classes)
    if cfg.split == "slot_machines":
        indices = slot_machines_split(cfg.dataset, len(raw.x_train), cfg.split_dir)
        return prepare(raw, normalization=cfg.normalization, input_scale=scale,
                       split_indices=indices)
    if cfg.split == "test":  # the LaPerm notebooks: train on every image, validate on test
        every = np.arange(len(raw.x_train))
        splits = prepare(raw, normalization=cfg.normalization, input_scale=scale,
                         split_indices=(every, every[:0]))
        return dataclasses.replace(splits, x_val=splits.x_test, y_val=splits.y_test)
    if not cfg.validation_size < len(raw.x_train):
        raise DataError(
            f"--validation_size={cfg.validation_size} leaves no training images "
            f"({cfg.dataset} has {len(raw.x_train)})"
        )
    splits = prepare(raw, cfg.validation_size, cfg.normalization, scale)
    if cfg.resnet_quirks:  # the original's ResNet "validated" on the test set
        splits = dataclasses.replace(splits, x_val=splits.x_test, y_val=splits.y_test)
    return splits
