"""Process-wide run settings: determinism, precision and the tf.distribute strategy.

``--distribute`` picks how the model is replicated (always through
tf.distribute): ``none`` (the default strategy), ``mirrored`` (all local GPUs;
on a CPU-only machine all *logical* CPU devices) or ``multiworker``
(MultiWorkerMirroredStrategy configured by the ``TF_CONFIG`` environment
variable). ``--batchsize`` is the *global* batch: each of R replicas sees
``batchsize / R`` examples per step and the gradients are summed across them,
so results match a single-device run with the same batch size.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from masktrainer.config import DISTRIBUTE_MODES, RunConfig
from masktrainer.errors import ConfigError


def check_runtime(cfg: RunConfig) -> None:
    """Errors that need TensorFlow to detect (called before anything is written)."""
    if cfg.mixed_precision and not tf.config.list_physical_devices("GPU"):
        raise ConfigError(
            "--mixed_precision needs a GPU (float16 on CPU is slow and not what the "
            "original measured); drop it on this machine"
        )
    if cfg.distribute == "multiworker":
        spec = os.environ.get("TF_CONFIG")
        if not spec:
            raise ConfigError("--distribute=multiworker needs the TF_CONFIG environment variable")
        try:
            json.loads(spec)
        except ValueError:
            raise ConfigError("TF_CONFIG is not valid JSON") from None


def configure_runtime(cfg: RunConfig, run_seed: int) -> tf.distribute.Strategy:
    """Seed everything, set determinism and precision; return the strategy to build under."""
    keras.utils.set_random_seed(run_seed)  # Python, NumPy and TensorFlow
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    if cfg.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    return make_strategy(cfg.distribute)


def is_chief() -> bool:
    """True unless TF_CONFIG names this process a non-chief multi-worker task."""
    spec = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = spec.get("task", {})
    kind, index = task.get("type"), int(task.get("index", 0))
    if kind in (None, "chief"):
        return True
    return kind == "worker" and index == 0 and "chief" not in spec.get("cluster", {})


def output_root(folder):
    """Where this process writes its run: the real folder for the chief, a scratch
    folder for the other workers of a multi-worker run (they train, but do not report)."""
    if is_chief():
        return folder
    return Path(tempfile.mkdtemp(prefix="masktrainer-worker-")) / Path(folder).name


def make_strategy(mode: str) -> tf.distribute.Strategy:
    if mode == "none":
        return tf.distribute.get_strategy()
    if mode == "mirrored":
        if tf.config.list_physical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
        # On CPU devices, reduce on one device: collective all-reduce adds nothing here
        # and its instance keys clash when a process creates several strategies.
        return tf.distribute.MirroredStrategy(
            cpus, cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
    if mode == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ConfigError(f"--distribute={mode!r} is not one of: {', '.join(DISTRIBUTE_MODES)}")
