"""The data settings of a run checked together: split, data source, ImageNet, normalisation.

Called by :class:`~masktrainer.config.RunConfig` when it resolves (``options``: its option
declarations, for their defaults). No TensorFlow here.
"""

from __future__ import annotations

from typing import Any, Mapping

from laperm.names import MODEL_NAMES as NOTEBOOK_MODELS
from masktrainer.data.preprocessing import FIXED_NORMALIZATIONS
from masktrainer.data.splits import SPLIT_DATASETS
from masktrainer.errors import ConfigError


def check_data_settings(cfg: Any, options: Mapping[str, Any]) -> None:
    """ConfigError (one line) if ``cfg``'s data settings contradict each other."""
    _check_split(cfg, options)
    _check_data_flags(cfg, options)


def _check_split(cfg: Any, options: Mapping[str, Any]) -> None:
    default_size = options["validation_size"].default
    if cfg.split == "slot_machines":
        if cfg.dataset not in SPLIT_DATASETS:
            raise ConfigError(f"--split=slot_machines exists for {' and '.join(SPLIT_DATASETS)}, "
                              f"not {cfg.dataset}")
        if cfg.data_source == "tfds" or cfg.manual_dir:
            raise ConfigError(
                "--split=slot_machines indexes the publisher's file order; tensorflow-datasets "
                "shuffles it (use the embedded data or --data_dir)"
            )
        if cfg.validation_size != default_size:
            raise ConfigError("--validation_size does not apply to --split=slot_machines")
    elif cfg.split_dir is not None:
        raise ConfigError("--split_dir applies to --split=slot_machines only")
    if cfg.split == "test" and cfg.validation_size != default_size:
        raise ConfigError("--validation_size does not apply to --split=test (no images held out)")


def _check_imagenet(cfg: Any, options: Mapping[str, Any]) -> None:
    default_size = options["image_size"].default
    if cfg.dataset != "imagenet2012":
        if cfg.image_size != default_size:
            raise ConfigError("--image_size applies to --dataset=imagenet2012 only")
        return
    if cfg.data_source not in ("auto", "tfds") or cfg.data_dir:
        raise ConfigError("--dataset=imagenet2012 is read by tensorflow-datasets: give "
                          "--manual_dir (the official tarballs) or a prepared --tfds_data_dir")
    if cfg.split != "test" or cfg.normalization != "hidden_networks" or cfg.augment != "none":
        raise ConfigError("--dataset=imagenet2012 streams the official validation set as val and "
                          "test, normalises as hidden-networks and crops/flips in its pipeline "
                          "(--split test, --normalization hidden_networks, --augment none)")


def _check_data_flags(cfg: Any, options: Mapping[str, Any]) -> None:
    if cfg.data_source == "embedded" and cfg.dataset != "mnist":
        raise ConfigError(
            f"--data_source=embedded only ships mnist; give --data_dir for {cfg.dataset}"
        )
    if cfg.data_source == "embedded" and (cfg.data_dir or cfg.manual_dir):
        raise ConfigError("--data_source=embedded uses the packaged MNIST; drop --data_dir/--manual_dir")
    if cfg.data_source == "files" and cfg.manual_dir:
        raise ConfigError("--manual_dir is for --data_source=tfds; --data_source=files reads --data_dir")
    if cfg.data_source == "tfds" and cfg.data_dir:
        raise ConfigError(
            "--data_dir is for --data_source=files; tfds reads --manual_dir (and --tfds_data_dir)"
        )
    if cfg.data_source == "auto" and cfg.data_dir and cfg.manual_dir:
        raise ConfigError("give either --data_dir (raw files) or --manual_dir (tfds), not both")
    if cfg.data_source == "files" and not cfg.data_dir and cfg.dataset != "mnist":
        raise ConfigError(f"--data_source=files needs --data_dir for {cfg.dataset}")
    if cfg.augment == "notebook" and cfg.nettype not in NOTEBOOK_MODELS:
        raise ConfigError(f"--augment=notebook exists for the LaPerm notebook models "
                          f"({', '.join(NOTEBOOK_MODELS)}), not --nettype={cfg.nettype}")
    _check_imagenet(cfg, options)
    fixed = FIXED_NORMALIZATIONS.get(cfg.normalization)
    if fixed is not None and cfg.dataset not in fixed:
        raise ConfigError(f"--normalization={cfg.normalization} has constants for "
                          f"{' and '.join(fixed)} only (got --dataset={cfg.dataset})")
