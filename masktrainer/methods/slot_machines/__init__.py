"""Slot Machines (Aladago & Torresani, ICML 2021, arXiv:2101.06475): one of K fixed values per weight.

K random values per connection, K trained scores; ``greedy`` selection takes
the argmax, ``probabilistic`` samples from softmax(scores). ``--finetune_from
RUN_DIR`` trains the weights of a finished run's selection (the original's
``learned`` fine-tuning). Conv2/4/6 are the paper's valid-padding networks for
this method. The recipe is the original code's (``training_schedule.py``).

Modules: ``layers`` (the K-value layers, their initializers and factory),
``recorder`` (slot histograms and changed selections), ``finetune``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from masktrainer.data.splits import SPLIT_DATASETS
from masktrainer.errors import ConfigError
from masktrainer.methods.base import Method, check_choice, group_root
from masktrainer.methods.slot_machines.options import (
    EVAL_SELECTIONS,
    OPTIONS,
    SELECTIONS,
    SLOTS,
)
from masktrainer.options import Draft

if TYPE_CHECKING:
    import keras

    from masktrainer.config import RunConfig

# Slot Machines' valid-padding ConvN replace the same-padding ones of the other methods.
SLOT_ARCHITECTURES = {"Conv2": "SlotConv2", "Conv4": "SlotConv4", "Conv6": "SlotConv6"}
# training_schedule.py: base epochs per model (prob +40, learned/fine-tuning +100).
SLOT_BASE_EPOCHS = {"LeNet": 120, "VGG19": 120}
SLOT_DEFAULT_BASE_EPOCHS = 140


class SlotMachines(Method):
    key = "slot_machines"
    title = "Slot Machines (Aladago & Torresani 2021)"
    summary = "picks one of --slots fixed random values per connection"
    train_types = ("SlotMachine",)
    position = 30
    initializers = ("slot_uniform",)
    keras_modules = ("masktrainer.methods.slot_machines.layers",)
    metadata_keys = ("finetune_source",)
    options = OPTIONS

    def kind(self, cfg: RunConfig) -> str:
        return "slot_finetune" if cfg.finetune_from else "slot_machines"

    def defaults(self, draft: Draft) -> None:
        draft.put("initializer", "slot_uniform")
        if not draft.finetune_from:
            draft.put("slots", 8)
            draft.put("selection", "greedy")
            draft.put("eval_selection", "argmax")
        if draft.finetune_from or draft.selection in SELECTIONS:
            draft.put("lr", self._lr(draft))
            draft.put("maxepochs", self._epochs(draft))
        draft.put("batchsize", 128)
        draft.put("optimizer", "sgd")
        vgg = draft.nettype == "VGG19"
        draft.put("weight_decay", 1e-4 if vgg else 0.0)
        draft.put("lr_schedule", "multistep" if vgg else "constant")
        if draft.lr_schedule == "multistep":
            draft.put("lr_milestones", "80")
        tfds = draft.data_source == "tfds" or draft.manual_dir
        draft.put("split", "slot_machines" if draft.dataset in SPLIT_DATASETS and not tfds
                  else "head")

    @staticmethod
    def _lr(draft: Draft) -> float:
        if draft.finetune_from:
            return 0.01
        if draft.selection == "probabilistic":
            return 25.0 if draft.nettype == "Conv6" else 50.0
        return 0.1 if draft.slots <= 8 else 0.01

    @staticmethod
    def _epochs(draft: Draft) -> int:
        base = SLOT_BASE_EPOCHS.get(draft.nettype, SLOT_DEFAULT_BASE_EPOCHS)
        if draft.finetune_from:
            return base + 100
        return base + 40 if draft.selection == "probabilistic" else base

    def validate(self, cfg: RunConfig) -> None:
        check_choice("--initializer", cfg.initializer, self.initializers,
                     " (the initializers of --traintype=SlotMachine)")
        if cfg.finetune_from:
            if cfg.selection is not None or cfg.eval_selection is not None:
                raise ConfigError(
                    "--selection/--eval_selection do not apply with --finetune_from "
                    "(fine-tuning trains the weights of the argmax selection)"
                )
            return
        SLOTS.check(cfg.slots)
        check_choice("--selection", cfg.selection, SELECTIONS)
        check_choice("--eval_selection", cfg.eval_selection, EVAL_SELECTIONS)
        if cfg.selection == "greedy" and cfg.eval_selection != "argmax":
            raise ConfigError("--eval_selection=sample needs --selection=probabilistic")

    def architecture(self, cfg: RunConfig) -> str:
        return SLOT_ARCHITECTURES.get(cfg.nettype, cfg.nettype)

    def trainable(self, cfg: RunConfig) -> tuple[bool, bool]:
        return (True, False) if cfg.finetune_from else (False, True)

    def run_folder(self, cfg: RunConfig) -> Path:
        slots = f"K_{cfg.slots}" if cfg.slots is not None else "K_source"
        what = "finetune" if cfg.finetune_from else cfg.selection
        return group_root(cfg) / slots / f"{what}_{cfg.activation}_LR{cfg.lr}"

    def describe(self, cfg: RunConfig) -> str:
        if cfg.finetune_from:
            return f"fine-tuning the selection of {cfg.finetune_from}"
        return f"K {cfg.slots}, {cfg.selection} selection (eval {cfg.eval_selection})"

    def example(self) -> dict[str, Any]:
        return {"slots": 2, "selection": "probabilistic", "lr": 5.0, "split": "head"}

    # -- runtime ---------------------------------------------------------------------------
    def layers(self, cfg: RunConfig):
        if cfg.finetune_from:  # the kernels are overwritten by the selected values
            from masktrainer.nn.layer_factory import DenseReferenceLayers

            return DenseReferenceLayers()
        from masktrainer.methods.slot_machines.layers import SlotMachineLayers

        return SlotMachineLayers(cfg.slots, cfg.selection, cfg.eval_selection)

    def prepare(self, cfg: RunConfig) -> Any:
        if not cfg.finetune_from:
            return None
        from masktrainer.methods.slot_machines.finetune import (
            check_compatible,
            load_source,
        )

        source = load_source(cfg.finetune_from)
        check_compatible(cfg, source)
        return source

    def run_metadata(self, cfg: RunConfig, prepared: Any) -> dict[str, Any]:
        if prepared is None:
            return {}
        keys = ("run_id", "resolved_seed", "slots", "selection", "maxepochs")
        return {"finetune_source": {key: prepared.config.get(key) for key in keys}}

    def build_model(self, cfg: RunConfig, input_shape: Sequence[int], num_classes: int,
                    run_seed: int, prepared: Any = None) -> keras.Model:
        model = super().build_model(cfg, input_shape, num_classes, run_seed)
        if prepared is not None:
            from masktrainer.methods.slot_machines.finetune import apply_source

            apply_source(model, prepared)
        return model

    def recorder(self, cfg: RunConfig, model: keras.Model):
        if cfg.finetune_from:
            return super().recorder(cfg, model)
        from masktrainer.methods.slot_machines.recorder import SlotRecorder

        return SlotRecorder(model)


METHOD = SlotMachines()
