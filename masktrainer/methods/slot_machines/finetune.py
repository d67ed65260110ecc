"""Fine-tuning a finished slot-machine run (``--finetune_from RUN_DIR``).

As the original's ``--method learned --use_checkpoint``: the same architecture
is built from plain bias-free Keras ``Dense``/``Conv2D`` layers, every kernel is
set to the slot machine's selected (argmax) values at epoch ``--finetune_epoch``
(default 100, the original's; the source stores its selection every
``--selection_every`` epochs and at its last), and the weights are then trained
normally. BatchNormalization running statistics (VGG-19) of that epoch are
copied as well; the original's copy loop fails on non-affine BN (spec §2.3),
this is the intended behaviour. Like the original, which fine-tunes
``greedy/checks/``, only greedy runs are sources unless ``--finetune_any_selection``.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from masktrainer import layout, safe_io
from masktrainer.errors import ConfigError, RunStateError
from masktrainer.methods.slot_machines.recorder import (
    SNAPSHOT_FOLDER,
    selected_kernel_arrays,
    snapshot_name,
)
from masktrainer.methods.upgrade import config_values
from masktrainer.npz import load_npz

if TYPE_CHECKING:
    from masktrainer.config import RunConfig

# Settings that must agree between the slot-machine run and its fine-tuning.
MATCHING_FIELDS = ("nettype", "width_mult", "dataset", "activation", "bn")


class SourceRunError(ConfigError):
    """The run to fine-tune from is missing, incomplete or incompatible."""


@dataclasses.dataclass
class FinetuneSource:
    run_dir: Path
    config: dict[str, Any]
    epoch: int  # the source epoch whose selection is fine-tuned
    kernels: dict[str, np.ndarray]  # layer name -> selected effective kernel
    batchnorm: dict[str, list[np.ndarray]]  # layer name -> moving mean, moving variance


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return safe_io.read_json_object(path)  # regular files only: a FIFO never blocks
    except RunStateError as err:
        raise SourceRunError(f"{path} is unreadable ({err})") from None


def stored_epochs(folder: Path) -> list[int]:
    """The epochs whose selection a source run stored (besides its final model)."""
    names = (folder / SNAPSHOT_FOLDER).glob("epoch_*.npz")
    return sorted(int(p.stem.removeprefix("epoch_")) for p in names
                  if p.stem.removeprefix("epoch_").isdigit())


def _from_model(model_path: Path) -> tuple[dict[str, np.ndarray], dict[str, list[np.ndarray]]]:
    try:
        model = keras.models.load_model(model_path, compile=False)
    except Exception as err:  # keras raises several types for a bad archive
        raise SourceRunError(f"{model_path} cannot be loaded ({type(err).__name__})") from None
    batchnorm = {
        layer.name: [np.asarray(w) for w in layer.get_weights()]
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    }
    return selected_kernel_arrays(model), batchnorm


def _from_snapshot(folder: Path, epoch: int) -> tuple[dict[str, np.ndarray],
                                                      dict[str, list[np.ndarray]]]:
    try:
        selection = load_npz(folder / snapshot_name(epoch))
        values = load_npz(folder / "slot_values.npz")
    except (OSError, ValueError, RunStateError, zipfile.BadZipFile) as err:
        raise SourceRunError(f"the selection of epoch {epoch} in {folder} is unreadable "
                             f"({err})") from None
    kernels, batchnorm = {}, {}
    for key, index in selection.items():
        if key.startswith("bn/"):
            _, layer, position = key.split("/")
            batchnorm.setdefault(layer, {})[int(position)] = index
        elif key in values and values[key].shape[:-1] == index.shape:
            picked = np.take_along_axis(values[key], index.astype(np.int64)[..., None], -1)
            kernels[key] = picked[..., 0]
        else:
            raise SourceRunError(f"{folder / snapshot_name(epoch)}: {key} does not match "
                                 "slot_values.npz")
    return kernels, {name: [w[i] for i in sorted(w)] for name, w in batchnorm.items()}


def load_source(run_dir: str | Path, epoch: int = 100, any_selection: bool = False
                ) -> FinetuneSource:
    """Read a finished SlotMachine run: its config and the selected kernels of ``epoch``."""
    folder = Path(run_dir).expanduser()
    config_path, model_path = folder / layout.CONFIG_FILE, folder / layout.MODEL_FILE
    if not config_path.is_file() or not model_path.is_file():
        raise SourceRunError(f"--finetune_from {folder} is not a finished run "
                             f"({layout.CONFIG_FILE} and {layout.MODEL_FILE} needed)")
    config = _read_json(config_path)
    if config.get("traintype") != "SlotMachine" or config.get("finetune_from") \
            or config.get("selection") not in ("greedy", "probabilistic"):
        raise SourceRunError(
            f"--finetune_from {folder} is not a slot-machine run (fine-tune a greedy or "
            "probabilistic SlotMachine run)"
        )
    if config["selection"] != "greedy" and not any_selection:
        raise SourceRunError(
            f"--finetune_from {folder} is a {config['selection']} run; the original fine-tunes "
            "greedy runs only (--finetune_any_selection to use it anyway)"
        )
    last = int(_read_json(folder / layout.METRICS_FILE).get("epochs_completed", -1))
    if epoch == last:
        kernels, batchnorm = _from_model(model_path)
    elif epoch in stored_epochs(folder):
        kernels, batchnorm = _from_snapshot(folder, epoch)
    else:
        stored = ", ".join(str(e) for e in stored_epochs(folder) if e != last)
        raise SourceRunError(
            f"--finetune_epoch={epoch}: {folder} has the selections of epochs "
            f"{stored + ' and ' if stored else ''}{last} (its last)"
        )
    return FinetuneSource(folder, config, epoch, kernels, batchnorm)


def check_compatible(cfg: RunConfig, source: FinetuneSource) -> None:
    """The fine-tuning config must describe the same network and data as the source."""
    theirs_cfg = type(cfg).from_dict(config_values(source.config))  # resolved: defaults too
    for name in MATCHING_FIELDS:
        ours, theirs = getattr(cfg, name), getattr(theirs_cfg, name)
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
