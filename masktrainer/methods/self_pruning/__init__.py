"""Self-pruning and sign flipping (Ivan & Florian 2020, arXiv:2006.16627).

Each weight ``w`` of a fixed random kernel is gated by a trained score ``s``:
the layer applies ``w * M(s)`` with a straight-through gradient
(:mod:`~masktrainer.methods.self_pruning.masks`). ``Baseline`` trains the
kernel instead; ``Min*`` add ``-mean(M(s))`` per layer to the loss. The
defaults are the original ``MaskTrainer.py``'s: Adam 1e-3, batch 25, 20
epochs (ResNet20: x0.1 at epochs 80, 120, 160).

Modules: ``masks`` (score -> mask), ``layers`` (MaskedDense/MaskedConv2D, the
layer factory), ``binary_scale`` (the ``binary`` input scale).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from masktrainer.errors import ConfigError
from masktrainer.methods.base import Method, check_choice
from masktrainer.methods.figures import Figures
from masktrainer.methods.recipe import Recipe
from masktrainer.methods.runtime import Runtime
from masktrainer.methods.schedules import MILESTONE_SCHEDULES
from masktrainer.methods.self_pruning.options import (
    EVAL_SETS,
    INITIAL_EVAL,
    MASK_TYPES,
    OPTIONS,
)
from masktrainer.nn.names import TF1_INITS
from masktrainer.options import Draft

if TYPE_CHECKING:
    import keras

    from masktrainer.config import RunConfig

# Train type -> (kernel trainable, score trainable, alpha of the Min* penalty).
TRAIN_TYPES = {
    "Baseline": (True, False, 0.0),
    "FreePruning": (False, True, 0.0),
    "MinPruning": (False, True, -1.0),
    "FreeFlipping": (False, True, 0.0),
    "MinFlipping": (False, True, -1.0),
}


def default_masktype(traintype: str) -> str:
    """The mask function a train type means: flipping types flip, the rest prune."""
    return "flip" if traintype.endswith("Flipping") else "mask"


class SelfPruningFigures(Figures):
    def flips_signs(self, config: Mapping[str, Any]) -> bool:
        return config.get("masktype") == "flip"


class SelfPruningRecipe(Recipe):
    initializers = TF1_INITS
    options = OPTIONS

    def defaults(self, draft: Draft) -> None:
        draft.put("masktype", default_masktype(draft.traintype))
        if draft.nettype == "ResNet":
            draft.put("augment", "shift_flip")  # the original's ImageDataGenerator
            # The original's ResNet trainer: Adam 1e-3 dropping x0.1 at epochs 80, 120, 160.
            draft.put("lr_schedule", "multistep")
            if draft.lr_schedule in MILESTONE_SCHEDULES:  # cosine, constant: no milestones
                draft.put("lr_milestones", "80,120,160")
        draft.put("initializer", "he")
        draft.put("lr", 1e-3)
        draft.put("batchsize", 25)
        draft.put("maxepochs", 20)
        draft.put("optimizer", "adam")
        draft.put("weight_decay", 0.0)
        draft.put("lr_schedule", "constant")

    def original_evaluation(self, draft: Draft) -> None:
        """MaskTrainer.py holds out the first 5,000 training images (``--split head``)."""
        draft.put("split", "head")
        draft.put("eval_sets", EVAL_SETS)
        draft.put("initial_eval", INITIAL_EVAL)

    def validate(self, cfg: RunConfig) -> None:
        check_choice("--initializer", cfg.initializer, self.initializers,
                     f" (the initializers of --traintype={cfg.traintype})")
        check_choice("--masktype", cfg.masktype, MASK_TYPES)
        if cfg.traintype.endswith("Flipping") and cfg.masktype != "flip":
            raise ConfigError(
                f"--traintype={cfg.traintype} flips signs and needs --masktype=flip "
                f"(got --masktype={cfg.masktype}); use a *Pruning train type to prune"
            )
        if cfg.traintype.endswith("Pruning") and cfg.masktype == "flip":
            raise ConfigError(
                f"--traintype={cfg.traintype} prunes and needs --masktype=mask or mask_rs "
                "(got --masktype=flip); use a *Flipping train type to flip signs"
            )

    def trainable(self, cfg: RunConfig) -> tuple[bool, bool]:
        kernel, score, _ = TRAIN_TYPES[cfg.traintype]
        return kernel, score

    def alpha(self, cfg: RunConfig) -> float:
        return TRAIN_TYPES[cfg.traintype][2]

    def run_folder(self, cfg: RunConfig) -> Path:
        """The original's folder: ``<traintype>/<nettype>/P1_<p1>/<masktype>_<activation>_
        <initializer>_LR<lr>``."""
        return (Path(cfg.outputpath) / cfg.traintype / cfg.nettype / f"P1_{cfg.p1}"
                / f"{cfg.masktype}_{cfg.activation}_{cfg.initializer}_LR{cfg.lr}")

    def describe(self, cfg: RunConfig) -> str:
        return f"init {cfg.initializer}, mask {cfg.masktype}"

    def example(self) -> dict[str, Any]:
        return {"traintype": "MinPruning"}


class SelfPruningRuntime(Runtime):
    keras_modules = ("masktrainer.methods.self_pruning.layers",)

    def layers(self, cfg: RunConfig):
        from masktrainer.methods.self_pruning.layers import SelfPruningLayers

        return SelfPruningLayers.from_config(cfg)

    def recorder(self, cfg: RunConfig, model: keras.Model):
        from masktrainer.methods.recording import MaskCountRecorder

        return MaskCountRecorder(model, keep_kernels=cfg.train_weights,
                                 signed=cfg.masktype == "flip")

    def input_scale(self, cfg: RunConfig, input_shape: Sequence[int], num_classes: int) -> float:
        if cfg.initializer != "binary" or cfg.nettype == "ResNet":  # ResNet never scaled inputs
            return 1.0
        from masktrainer.methods.self_pruning.binary_scale import binary_input_scale
        from masktrainer.nn.architectures import kernel_fan_ins

        fans = kernel_fan_ins(cfg.nettype, input_shape, num_classes)
        return binary_input_scale(cfg.nettype, fans, cfg.binary_input_scale)


METHOD = Method(
    key="self_pruning",
    title="self-pruning and sign flipping (Ivan & Florian 2020)",
    summary=("a score per weight, w * M(score) (Baseline trains the kernels instead); Min* add "
             "-mean(M(score)) per layer"),
    train_types=tuple(TRAIN_TYPES),
    position=10,
    recipe=SelfPruningRecipe(),
    runtime=SelfPruningRuntime(),
    # The mask function shapes the network as its weights do: labels name it with them.
    figures=SelfPruningFigures(legend_fields=("masktype",), legend_after="activation"),
)
