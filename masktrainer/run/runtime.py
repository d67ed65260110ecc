"""Process-wide run settings: determinism, precision and the tf.distribute strategy.

``--distribute`` picks how the model is replicated (always through
tf.distribute): ``none`` (the default strategy), ``mirrored`` (all local GPUs;
on a CPU-only machine all *logical* CPU devices, ``--cpu_replicas`` of them; a run that
finds a single device says so) or ``multiworker``
(MultiWorkerMirroredStrategy configured by the ``TF_CONFIG`` environment
variable). ``--batchsize`` is the *global* batch: each of R replicas sees
``batchsize / R`` examples per step and the gradients are summed across them,
so results match a single-device run with the same batch size. ``TF_CONFIG`` is
checked field by field before anything starts.
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
from masktrainer.run.hardware import BFLOAT16_GPU_CAPABILITY, cpu_has_native_bfloat16, cpu_model


def check_runtime(cfg: RunConfig) -> None:
    """Errors that need TensorFlow to detect (called before anything is written)."""
    if cfg.precision == "mixed_float16" and not tf.config.list_physical_devices("GPU"):
        raise ConfigError(
            "--precision=mixed_float16 needs a GPU (float16 on CPU is slow and not what the "
            "original measured); on a CPU with bfloat16 instructions use "
            "--precision=mixed_bfloat16"
        )
    if cfg.cpu_replicas:
        split_cpu(cfg.cpu_replicas)
    if cfg.distribute == "multiworker":
        if not os.environ.get("TF_CONFIG"):
            raise ConfigError("--distribute=multiworker needs the TF_CONFIG environment variable")
        cluster_task()


def split_cpu(replicas: int) -> None:
    """Make ``replicas`` logical CPU devices (before TensorFlow initialises its devices)."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        raise ConfigError(f"--cpu_replicas splits the CPU of a machine without GPUs; this one "
                          f"has {len(gpus)} GPU(s), which --distribute=mirrored uses")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    except RuntimeError:  # devices already initialised in this process (e.g. an earlier run)
        have = len(tf.config.list_logical_devices("CPU"))
        if have != replicas:
            raise ConfigError(f"--cpu_replicas={replicas}: this process already set up "
                              f"{have} CPU device(s); start a new process") from None


def replica_note(cfg: RunConfig, replicas: int) -> str | None:
    """The console line for a mirrored run that found a single device, else None."""
    if cfg.distribute != "mirrored" or replicas > 1:
        return None
    if tf.config.list_physical_devices("GPU"):
        return "note: --distribute=mirrored found one GPU: training on 1 replica"
    return ("note: --distribute=mirrored found no GPU and one CPU device: training on 1 replica; "
            "--cpu_replicas=N splits the CPU into N logical devices (N replicas)")


def cluster_task() -> tuple[str | None, int, dict[str, list[str]]]:
    """(task type, task index, cluster) from TF_CONFIG; ConfigError (one line) if malformed."""
    text = os.environ.get("TF_CONFIG") or "{}"
    try:
        spec = json.loads(text)
    except ValueError:
        raise ConfigError("TF_CONFIG is not valid JSON") from None
    if not isinstance(spec, dict):
        raise ConfigError("TF_CONFIG must be a JSON object with 'cluster' and 'task'")
    cluster, task = spec.get("cluster", {}), spec.get("task", {})
    if not isinstance(cluster, dict) or not all(
            isinstance(hosts, list) and hosts and all(_is_address(h) for h in hosts)
            for hosts in cluster.values()):
        raise ConfigError("TF_CONFIG 'cluster' must map job names to lists of 'host:port'")
    if not isinstance(task, dict):
        raise ConfigError("TF_CONFIG 'task' must be an object with 'type' and 'index'")
    kind, index = task.get("type"), task.get("index", 0)
    if cluster and kind not in cluster:
        raise ConfigError(f"TF_CONFIG task type {kind!r} is not a job of the cluster "
                          f"({', '.join(cluster)})")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0 \
            or (kind in cluster and index >= len(cluster[kind])):
        raise ConfigError(f"TF_CONFIG task index {index!r} is not a task of job {kind!r}")
    return kind, index, cluster


def _is_address(host) -> bool:
    if not isinstance(host, str) or ":" not in host:
        return False
    port = host.rsplit(":", 1)[1]
    return port.isdigit() and 0 < int(port) < 65536


def configure_runtime(cfg: RunConfig, run_seed: int) -> tf.distribute.Strategy:
    """Seed everything, set determinism and precision; return the strategy to build under."""
    keras.utils.set_random_seed(run_seed)  # Python, NumPy and TensorFlow
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    # Always set: the policy is process-wide and an earlier run may have changed it.
    keras.mixed_precision.set_global_policy(cfg.precision)
    return make_strategy(cfg.distribute)


def is_chief() -> bool:
    """True unless TF_CONFIG names this process a non-chief multi-worker task."""
    kind, index, cluster = cluster_task()
    if kind in (None, "chief"):
        return True
    return kind == "worker" and index == 0 and "chief" not in cluster


def output_root(folder):
    """Where this process writes its run: the real folder for the chief, a scratch
    folder for the other workers of a multi-worker run (they train, but do not report)."""
    if is_chief():
        return folder
    return Path(tempfile.mkdtemp(prefix="masktrainer-worker-")) / Path(folder).name


def make_strategy(mode: str) -> tf.distribute.Strategy:
    if mode == "none":
        return tf.distribute.get_strategy()
    if mode == "mirrored":  # --cpu_replicas made the logical CPUs (check_runtime)
        if tf.config.list_physical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
        # On CPU devices, reduce on one device: collective all-reduce adds nothing here
        # and its instance keys clash when a process creates several strategies.
        return tf.distribute.MirroredStrategy(
            cpus, cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
    if mode == "multiworker":
        return _KerasMultiWorkerStrategy()
    raise ConfigError(f"--distribute={mode!r} is not one of: {', '.join(DISTRIBUTE_MODES)}")


class _KerasMultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """MultiWorkerMirroredStrategy as Keras 3's TensorFlow trainer calls it.

    Keras reduces a whole ``(x, y)`` batch in one ``reduce`` call (to learn the input
    shapes) and the per-step scalar logs with ``axis=0``; the collective implementation
    takes one tensor at a time and rejects an axis on a scalar. Reduce each tensor on its
    own, and scalars across replicas only (the mean Keras means).
    """

    def reduce(self, reduce_op, value, axis):
        parent = super()

        def one(item):
            local = self.experimental_local_results(item)[0]
            scalar = getattr(local, "shape", None) is not None and local.shape.rank == 0
            return parent.reduce(reduce_op, item, None if scalar else axis)

        return tf.nest.map_structure(one, value)


def precision_note(cfg: RunConfig) -> str | None:
    """The console line for a bfloat16 run on hardware without native bfloat16, else None."""
    if cfg.precision != "mixed_bfloat16":
        return None
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        capability = tuple(details.get("compute_capability") or (0, 0))
        if capability >= BFLOAT16_GPU_CAPABILITY:
            return None
        return (f"note: this GPU (compute capability {'.'.join(map(str, capability))}) has no "
                "bfloat16 tensor cores: --precision=mixed_bfloat16 will be slower than float32")
    if cpu_has_native_bfloat16():
        return None
    return (f"note: this CPU ({cpu_model()}) has no native bfloat16 instructions (AVX512_BF16 or "
            "AMX): --precision=mixed_bfloat16 will be slower than float32 here")
