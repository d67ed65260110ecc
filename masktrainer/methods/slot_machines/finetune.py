"""Fine-tuning a finished slot-machine run (``--finetune_from RUN_DIR``).

As the original's ``--method learned --use_checkpoint``: the same architecture
is built from plain bias-free Keras ``Dense``/``Conv2D`` layers, every kernel is
set to the slot machine's selected (argmax) values, and the weights are then
trained normally. BatchNormalization running statistics (VGG-19) are copied as
well; the original's copy loop fails on non-affine BN (spec §2.3), this is the
intended behaviour.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from masktrainer.errors import ConfigError, RunStateError
from masktrainer.methods.slot_machines.recorder import selected_kernel_arrays
from masktrainer.run import safe_io

if TYPE_CHECKING:
    from masktrainer.config import RunConfig

# Settings that must agree between the slot-machine run and its fine-tuning.
MATCHING_FIELDS = ("nettype", "width_mult", "dataset", "activation")


class SourceRunError(ConfigError):
    """The run to fine-tune from is missing, incomplete or incompatible."""


@dataclasses.dataclass
class FinetuneSource:
    run_dir: Path
    config: dict[str, Any]
    kernels: dict[str, np.ndarray]  # layer name -> selected effective kernel
    batchnorm: dict[str, list[np.ndarray]]  # layer name -> moving mean, moving variance


def load_source(run_dir: str | Path) -> FinetuneSource:
    """Read a finished SlotMachine run: its config and the argmax-selected kernels."""
    folder = Path(run_dir).expanduser()
    config_path, model_path = folder / "config.json", folder / "model.keras"
    if not config_path.is_file() or not model_path.is_file():
        raise SourceRunError(
            f"--finetune_from {folder} is not a finished run (config.json and model.keras needed)"
        )
    try:
        config = safe_io.read_json_object(config_path)  # regular files only: a FIFO never blocks
    except RunStateError as err:
        raise SourceRunError(f"{config_path} is unreadable ({err})") from None
    if config.get("traintype") != "SlotMachine" or config.get("finetune_from"):
        raise SourceRunError(
            f"--finetune_from {folder} is not a slot-machine run (fine-tune a SlotMachine run "
            "that was not itself a fine-tuning run)"
        )
    try:
        model = keras.models.load_model(model_path, compile=False)
    except Exception as err:  # keras raises several types for a bad archive
        raise SourceRunError(f"{model_path} cannot be loaded ({type(err).__name__})") from None
    batchnorm = {
        layer.name: [np.asarray(w) for w in layer.get_weights()]
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    }
    return FinetuneSource(folder, config, selected_kernel_arrays(model), batchnorm)


def check_compatible(cfg: RunConfig, source: FinetuneSource) -> None:
    """The fine-tuning config must describe the same network and data as the source."""
    for name in MATCHING_FIELDS:
        ours, theirs = getattr(cfg, name), source.config.get(name)
        if ours != theirs:
            raise SourceRunError(
                f"--{name}={ours} differs from the run being fine-tuned ({theirs}, {source.run_dir})"
            )
    if cfg.slots is not None and cfg.slots != source.config.get("slots"):
        raise SourceRunError(
            f"--slots={cfg.slots} differs from the run being fine-tuned "
            f"({source.config.get('slots')}); leave --slots out"
        )


def apply_source(model: keras.Model, source: FinetuneSource) -> None:
    """Set every plain kernel of ``model`` to the source's selected values."""
    kernels = dict(source.kernels)
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            if layer.name not in kernels:
                raise SourceRunError(f"layer {layer.name} has no counterpart in {source.run_dir}")
            value = kernels.pop(layer.name)
            if tuple(value.shape) != tuple(layer.kernel.shape):
                raise SourceRunError(
                    f"layer {layer.name}: kernel {tuple(layer.kernel.shape)} vs source {value.shape}"
                )
            layer.kernel.assign(value)
        elif isinstance(layer, keras.layers.BatchNormalization) and layer.name in source.batchnorm:
            layer.set_weights(source.batchnorm[layer.name])
    if kernels:
        raise SourceRunError(f"layers {sorted(kernels)} of {source.run_dir} are not in the network")
