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

from masktrainer.data.preprocessing import FIXED_NORMALIZATIONS
from masktrainer.data.splits import SPLIT_DATASETS
from masktrainer.errors import ConfigError
from masktrainer.methods.base import Method, check_choice, group_root
from masktrainer.methods.figures import Figures
from masktrainer.methods.recipe import Recipe
from masktrainer.methods.runtime import Runtime
from masktrainer.methods.slot_machines.options import (
    EVAL_SELECTIONS,
    EVAL_SETS,
    INITIAL_EVAL,
    MODES,
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


def trains_weights(cfg: RunConfig | Draft) -> bool:
    """Fine-tuning and the learned baseline train plain weights (no slots)."""
    return bool(cfg.finetune_from) or cfg.selection == "learned"


class SlotRecipe(Recipe):
    initializers = ("slot_uniform",)
    options = OPTIONS

    def kind(self, cfg: RunConfig) -> str:
        if cfg.finetune_from:
            return "slot_finetune"
        return "slot_learned" if cfg.selection == "learned" else "slot_machines"

    def defaults(self, draft: Draft) -> None:
        draft.put("initializer", "slot_uniform")
        if draft.finetune_from:
            draft.put("finetune_epoch", 100)
        else:
            draft.put("slots", 8)
            draft.put("selection", "greedy")
            if draft.selection in SELECTIONS:
                draft.put("eval_selection", "argmax")
                draft.put("selection_every", 10)
        draft.put("lr", self._lr(draft))
        draft.put("maxepochs", self._epochs(draft))
        draft.put("bn", draft.nettype == "VGG19")
        draft.put("batchsize", 128)
        draft.put("optimizer", "sgd")
        vgg = draft.nettype == "VGG19"
        draft.put("weight_decay", 1e-4 if vgg else 0.0)
        draft.put("lr_schedule", "multistep" if vgg else "constant")
        if draft.lr_schedule == "multistep":
            draft.put("lr_milestones", "80")
        if draft.dataset in FIXED_NORMALIZATIONS["slot_machines"]:
            draft.put("normalization", "slot_machines")
        draft.put("augment", "flip" if draft.dataset == "cifar10" else "none")

    def original_evaluation(self, draft: Draft) -> None:
        """Its index split (train.py), validation each epoch; the paper reports test accuracy
        at the best-validation epoch, so the test set is evaluated too."""
        tfds = draft.data_source == "tfds" or draft.manual_dir
        draft.put("split", "slot_machines" if draft.dataset in SPLIT_DATASETS and not tfds
                  else "head")
        draft.put("eval_sets", EVAL_SETS)
        draft.put("initial_eval", INITIAL_EVAL)

    def held_out_evaluation(self, draft: Draft) -> None:
        """Its index split is a held-out split: the held-out protocol keeps it."""
        self.original_evaluation(draft)

    def _lr(self, draft: Draft) -> float:
        if trains_weights(draft):
            return 0.01
        if draft.selection == "probabilistic":
            return 25.0 if draft.nettype == "Conv6" else 50.0
        return 0.1 if draft.slots <= 8 else 0.01

    def _epochs(self, draft: Draft) -> int:
        base = SLOT_BASE_EPOCHS.get(draft.nettype, SLOT_DEFAULT_BASE_EPOCHS)
        if trains_weights(draft):
            return base + 100
        return base + 40 if draft.selection == "probabilistic" else base

    def validate(self, cfg: RunConfig) -> None:
        check_choice("--initializer", cfg.initializer, self.initializers,
                     " (the initializers of --traintype=SlotMachine)")
        if cfg.bn and not self.architecture(cfg).startswith(("SlotConv", "VGG")):
            raise ConfigError(f"--bn applies to the conv nets (Conv2/4/6, VGG19), not "
                              f"--nettype={cfg.nettype}")
        if not cfg.finetune_from and (cfg.finetune_epoch is not None or cfg.finetune_any_selection):
            raise ConfigError("--finetune_epoch/--finetune_any_selection apply with --finetune_from")
        if cfg.finetune_from:
            if cfg.selection is not None or cfg.eval_selection is not None:
                raise ConfigError(
                    "--selection/--eval_selection do not apply with --finetune_from "
                    "(fine-tuning trains the weights of the argmax selection)"
                )
        else:
            SLOTS.check(cfg.slots)
            check_choice("--selection", cfg.selection, MODES)
        if trains_weights(cfg):
            if cfg.eval_selection is not None or cfg.selection_every is not None:
                raise ConfigError("--eval_selection/--selection_every do not apply to trained "
                                  "weights (--finetune_from, --selection=learned)")
            return
        check_choice("--eval_selection", cfg.eval_selection, EVAL_SELECTIONS)
        if cfg.selection == "greedy" and cfg.eval_selection != "argmax":
            raise ConfigError("--eval_selection=sample needs --selection=probabilistic")

    def architecture(self, cfg: RunConfig) -> str:
        return SLOT_ARCHITECTURES.get(cfg.nettype, cfg.nettype)

    def trainable(self, cfg: RunConfig) -> tuple[bool, bool]:
        return (True, False) if trains_weights(cfg) else (False, True)

    def run_folder(self, cfg: RunConfig) -> Path:
        slots = f"K_{cfg.slots}" if cfg.slots is not None else "K_source"
        what = f"finetune{cfg.finetune_epoch}" if cfg.finetune_from else cfg.selection
        what += "_bn" if cfg.bn and cfg.nettype != "VGG19" else ""
        return group_root(cfg) / slots / f"{what}_{cfg.activation}_LR{cfg.lr}"

    def describe(self, cfg: RunConfig) -> str:
        bn = ", non-affine BN" if cfg.bn else ""
        if cfg.finetune_from:
            return f"fine-tuning the epoch-{cfg.finetune_epoch} selection of {cfg.finetune_from}{bn}"
        if cfg.selection == "learned":
            return f"training the weights of a random selection of K {cfg.slots}{bn}"
        return f"K {cfg.slots}, {cfg.selection} selection (eval {cfg.eval_selection}){bn}"

    def example(self) -> dict[str, Any]:
        return {"slots": 2, "selection": "probabilistic", "lr": 5.0, "split": "head"}



class SlotRuntime(Runtime):
    keras_modules = ("masktrainer.methods.slot_machines.layers",)
    metadata_keys = ("finetune_source",)
    loss_over_batches = True  # evaluate.py averages the validation loss over batches

    def layers(self, cfg: RunConfig):
        if cfg.finetune_from:  # the kernels are overwritten by the selected values
            from masktrainer.nn.layer_factory import DenseReferenceLayers

            return DenseReferenceLayers()
        from masktrainer.methods.slot_machines.layers import (
            SlotLearnedLayers,
            SlotMachineLayers,
        )

        if cfg.selection == "learned":
            return SlotLearnedLayers(slots=cfg.slots)
        return SlotMachineLayers(cfg.slots, cfg.selection, cfg.eval_selection)

    def prepare(self, cfg: RunConfig) -> Any:
        if not cfg.finetune_from:
            return None
        from masktrainer.methods.slot_machines.finetune import (
            check_compatible,
            load_source,
        )

        source = load_source(cfg.finetune_from, cfg.finetune_epoch, cfg.finetune_any_selection)
        check_compatible(cfg, source)
        return source

    def network_options(self, cfg: RunConfig) -> dict[str, Any]:
        return {"batchnorm": cfg.bn}

    def run_metadata(self, cfg: RunConfig, prepared: Any) -> dict[str, Any]:
        if prepared is None:
            return {}
        keys = ("run_id", "resolved_seed", "slots", "selection", "maxepochs")
        return {"finetune_source": {**{key: prepared.config.get(key) for key in keys},
                                    "epoch": prepared.epoch}}

    def build_model(self, cfg: RunConfig, input_shape: Sequence[int], num_classes: int,
                    run_seed: int, prepared: Any = None) -> keras.Model:
        model = super().build_model(cfg, input_shape, num_classes, run_seed)
        if prepared is not None:
            from masktrainer.methods.slot_machines.finetune import apply_source

            apply_source(model, prepared)
        return model

    def recorder(self, cfg: RunConfig, model: keras.Model):
        if trains_weights(cfg):
            return super().recorder(cfg, model)
        from masktrainer.methods.slot_machines.recorder import SlotRecorder

        return SlotRecorder(model, cfg.selection_every, cfg.maxepochs)


class SlotFigures(Figures):
    def changed_fraction(self, cfg: RunConfig, metrics: dict[str, Any],
                         run_dir: Path) -> float | None:
        """Trained weights: all; slots: the selections changed since epoch 0."""
        if trains_weights(cfg):
            return 1.0
        from masktrainer.methods.slot_machines.recorder import changed_since_epoch_0

        return changed_since_epoch_0(run_dir, int(metrics.get("epochs_completed", 0)))


METHOD = Method(
    key="slot_machines",
    title="Slot Machines (Aladago & Torresani 2021)",
    summary="picks one of --slots fixed random values per connection",
    train_types=("SlotMachine",),
    position=30,
    recipe=SlotRecipe(),
    runtime=SlotRuntime(),
    figures=SlotFigures(legend_fields=("slots", "selection")),
)
