"""What a run's config.json holds besides RunConfig fields, and older runs' spellings.

The trainer writes these keys, and the methods (a fine-tuned run reads its source), the run
resumer, the sweep and the plotter read them back, so this module sits below all of them: no
TensorFlow, nothing of the library imported. How a stored config becomes RunConfig values
(each method upgrading its older runs) is :func:`masktrainer.methods.upgrade.config_values`.
"""

from __future__ import annotations

from typing import Any

# config.json keys that describe the run rather than configure it (the rest are RunConfig
# fields); methods may add their own (``Method.metadata_keys``). ``versions`` and ``git``
# (:mod:`masktrainer.run.provenance`): a run resumes, and pools, whatever code made it.
BOOKKEEPING_KEYS = ("format_version", "method", "architecture", "resolved_seed", "run_id",
                    "run_dir", "created", "data", "versions", "git", "invocation", "extended")
# RunConfig fields that say how, where or how fast a run is made, not what it trains: runs that
# differ only in these (and the seed) are seeds of one experiment. The plotter pools them and
# the cross-check reuses a finished run whatever they were.
SETTING_KEYS = ("progress", "tensorboard", "jit_compile", "outputpath", "data_dir", "manual_dir",
                "tfds_data_dir", "split_dir", "eval_batchsize", "checkpoint_every",
                "deterministic", "distribute", "mixed_precision", "cpu_replicas",
                "heartbeat_minutes", "steps_per_execution")


def with_precision(config: dict[str, Any]) -> dict[str, Any]:
    """A config.json with its ``precision`` (runs written before it existed said
    ``mixed_precision``: float16 when true, else float32). Runs of different precision are
    different configurations; how a run was spelled (``mixed_precision``) is a setting."""
    if "precision" in config:
        return config
    return {**config, "precision": "mixed_float16" if config.get("mixed_precision") else "float32"}
