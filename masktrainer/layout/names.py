"""The facts of the run-directory format: its version, the names of a run's files, the series
and keys its metrics and config hold. No TensorFlow (see :mod:`masktrainer.layout`)."""

from __future__ import annotations

from typing import Any

#: The ``format_version`` of the config and metrics a run writes.
FORMAT_VERSION = 1
RUN_FOLDER_PREFIX = "run-"  # a run's own folder: run-<7 hex>

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
METRICS_CSV_FILE = "metrics.csv"
LOG_FILE = "train.log"
MODEL_FILE = "model.keras"
INITIAL_WEIGHTS_FILE = "initial_weights.npz"
FINAL_WEIGHTS_FILE = "final_weights.npz"
MASKS_FILE = "masks.npz"
# The run's input normalisation on raw 0..255 pixels: prepared = (raw - mean) / std, the
# arrays broadcastable to one image (``mean``, ``std``); an export puts it in front.
PREPROCESSING_FILE = "preprocessing.npz"
TENSORBOARD_FOLDER = "tensorboard"
CHECKPOINT_FOLDER = "checkpoint"
RESUME_FILE = "resume.json"  # inside CHECKPOINT_FOLDER
#: A checkpoint is written into a fresh private folder of this prefix inside CHECKPOINT_FOLDER,
#: then its files are renamed into place (a killed save leaves one; the next save removes it).
CHECKPOINT_STAGING_PREFIX = ".staging-"
#: A checkpoint's files inside CHECKPOINT_FOLDER: ``<name>.index`` and its data shards.
CHECKPOINT_FILE_PATTERN = r"(ckpt-[0-9]{1,15})\.(?:index|data-[0-9]{5}-of-[0-9]{5})"
EXPORT_FOLDER = "export"  # where ``masktrainer export`` writes by default

# -- the metrics file --------------------------------------------------------------------------
#: Per-epoch series every run records, in the order of its files.
CORE_SERIES = ("trainLoss", "valLoss", "testLoss", "trainAccuracy", "valAccuracy", "testAccuracy")
EPOCH_SECONDS = "epochSeconds"
REMAINING_KEY = "remainingWeights"
PER_LAYER_KEY = "remainingWeightsPerLayer"
#: [neg_masks, zero_masks, pos_masks, neg_effective, zero_effective, pos_effective]
PER_LAYER_FIELDS = 6
#: Per-epoch series recorded as fractions of 1 whose names do not say so (accuracies and
#: ``*Fraction*`` series are too): the share of weights moved from their initial positions.
FRACTION_SERIES = frozenset({"changedFromInitial"})
#: Per-epoch series whose length a reader checks when present.
KNOWN_SERIES = CORE_SERIES + (REMAINING_KEY, EPOCH_SECONDS)
#: Lists of the metrics file that are not per-epoch series.
NOT_SERIES = ("layer_names", "layer_sizes")
#: Scalar or descriptive entries of the metrics file that are not per-epoch series.
METADATA_KEYS = frozenset({"format_version", "status", "epochs_completed", *NOT_SERIES})
RUNNING, COMPLETE, INTERRUPTED, DIVERGED = "running", "complete", "interrupted", "diverged"
RESUMABLE_STATUSES = (RUNNING, INTERRUPTED, DIVERGED)

# -- the config file ---------------------------------------------------------------------------
# Config keys that describe the run rather than configure it (the rest are RunConfig fields);
# methods may add their own (``Method.metadata_keys``). ``versions`` and ``git``
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


def _codes(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names)


#: (name, content) of every file a run may hold: the table of docs/run-directory.md.
RUN_FILES = (
    (CONFIG_FILE, "every setting, the resolved seed, data source and split sizes, library versions "
     "(`versions`: Python, TensorFlow, Keras, NumPy, masktrainer) and `git` (`{\"commit\", "
     "\"dirty\"}` of the checkout the library runs from, as the process found it when it "
     "started, plus `checkout_at_run_start` if the checkout changed before this run began "
     "(a sweep or comparison runs for hours); `null` for an installed package)"),
    (METRICS_FILE, "per epoch (index 0 = before training), with the original's keys: "
     f"{_codes(CORE_SERIES)} (fractions), `{REMAINING_KEY}`, `{PER_LAYER_KEY}` (per layer "
     "`[neg_masks, zero_masks, pos_masks, neg_effective, zero_effective, pos_effective]`), plus "
     f"{_codes(NOT_SERIES)}, `{EPOCH_SECONDS}`, `status` (`{RUNNING}`, `{COMPLETE}`, "
     f"`{INTERRUPTED}` after a signal, `{DIVERGED}` after a non-finite loss; the last two "
     "resume), and at the end `best`: the reported epoch, the set that selected it "
     "(`selected_on`), the `protocol`, and the validation and test top-1/top-5 there "
     "(`testAccuracy` is the reported number)"),
    (METRICS_CSV_FILE, "the same, one row per epoch, per-layer columns `<layer>:<count>`"),
    (INITIAL_WEIGHTS_FILE, "the kernels before training (`np.load(..., allow_pickle=False)`)"),
    (MASKS_FILE, "final masks as int8 sign patterns per layer (+ `<layer>_scale` for `mask_rs`)"),
    (FINAL_WEIGHTS_FILE, "final kernels, only when they train (`Baseline`)"),
    (MODEL_FILE, "the trained model; `import masktrainer` then `keras.models.load_model(path)`"),
    (PREPROCESSING_FILE, "`mean`, `std` on raw 0..255 pixels: the library's inputs are "
     "`(raw - mean) / std` (the export puts it in front)"),
    (f"{TENSORBOARD_FOLDER}/", "`train/`, `validation/`, `test/` (and `train_subset/`) subruns "
     "with Keras' tags (`epoch_loss`, `epoch_accuracy`, ...), so one metric's curves overlay; the "
     "method's per-epoch statistics, learning rate and score histograms under `train/`; at its "
     "root the run's HParams session (its configuration, then `reported/test_accuracy`, "
     "`reported/validation_accuracy`, `reported/epoch`); an extended run's own in "
     "`extended-N/`"),
    (f"{CHECKPOINT_FOLDER}/", "the model and optimizer variables of the last two checkpointed "
     f"points, and `{RESUME_FILE}`: the point they belong to (what `--resume` continues from)"),
    (LOG_FILE, "the console lines"),
)


def with_precision(config: dict[str, Any]) -> dict[str, Any]:
    """A run's config with its ``precision`` (runs written before it existed said
    ``mixed_precision``: float16 when true, else float32). Runs of different precision are
    different configurations; how a run was spelled (``mixed_precision``) is a setting."""
    if "precision" in config:
        return config
    return {**config, "precision": "mixed_float16" if config.get("mixed_precision") else "float32"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def run_files_table() -> str:
    """Markdown: the table of a run's files (``docs/run-directory.md``)."""
    lines = ["| file | content |", "|---|---|"]
    lines += [f"| `{name}` | {_cell(content)} |" for name, content in RUN_FILES]
    return "\n".join(lines) + "\n"
