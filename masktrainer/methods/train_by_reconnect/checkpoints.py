"""The LaPerm authors' released checkpoints (Keras 2 ``.h5`` files of the notebook models).

Each is scored with the data settings of the notebook that trained it, which its preset
(``laperm_<net>.flags``) records: split and normalisation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from laperm.names import MODEL_NAMES
from masktrainer.errors import ConfigError
from masktrainer.methods.checkpoints import ReleasedCheckpoints

if TYPE_CHECKING:
    import keras


# The flags of a LaPerm preset that say how the notebook used its data (its protocol: the
# split).
DATA_FLAGS = ("protocol", "split", "normalization")


class NotebookCheckpoints(ReleasedCheckpoints):
    nets = MODEL_NAMES
    source = "Train-by-Reconnect"
    models = "notebook"

    def settings(self, nettype: str) -> dict[str, Any]:
        """The data side of the notebook that trained ``nettype``, from its preset."""
        from masktrainer.presets import preset_flags

        preset = preset_flags(f"laperm_{nettype.lower()}")
        if preset.get("nettype") != nettype:
            raise ConfigError(f"the preset laperm_{nettype.lower()} is not the {nettype} notebook")
        chosen = {name: preset[name] for name in DATA_FLAGS if name in preset}
        return {"traintype": "LaPerm", "nettype": nettype, **chosen}

    def input_shape(self, nettype: str) -> tuple[int, ...]:
        from laperm.models import default_input_shape

        return default_input_shape(nettype)

    def build_model(self, nettype: str, input_shape: tuple[int, ...],
                    num_classes: int) -> keras.Model:
        """The notebook model, no augmentation in front (evaluation never augments)."""
        from laperm.models import build_laperm_model

        return build_laperm_model(nettype, tuple(input_shape), num_classes, seed=1)
