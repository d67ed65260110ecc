"""Names the configuration checks without TensorFlow: initializers and activations.

The classes behind the initializer names are in :mod:`masktrainer.nn.initializers`,
the activations in :mod:`masktrainer.nn.activations`.
"""

# Hidden-layer activations a run may choose (the layers also apply softmax and linear).
HIDDEN_ACTIVATIONS = ("relu", "swish", "sigmoid", "elu", "selu")

# The self-pruning original's kinds (TF1): truncated He / Glorot normal, the signed He
# constant, +-1 with input scaling, and its unexposed N(0.1 or 0, 0.05).
TF1_INITS = ("he", "glorot", "heconstant", "binary", "normal")
# hidden-networks' ``--init`` kinds (``Builder._init_conv``): the frozen weights of edge-popup,
# supermask sampling and their dense baselines.
HIDDEN_NETWORKS_INITS = ("kaiming_normal", "kaiming_uniform", "signed_constant",
                         "unsigned_constant", "xavier_normal", "xavier_constant", "standard")
# The hidden-networks kinds whose scale uses the fan, so that --scale_fan changes them.
FAN_SCALED_INITS = ("kaiming_normal", "signed_constant", "unsigned_constant")
# --augment: the originals' training-time augmentations (masktrainer.nn.augment).
AUGMENTATIONS = ("none", "flip", "crop_flip", "shift_flip", "notebook")
