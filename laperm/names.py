"""The notebook models, their augmentation settings and the tie orders (no TensorFlow here)."""

MODEL_NAMES = ("F1", "F2", "Conv7", "Conv2", "Conv4", "Conv13", "ResNet50")
MNIST_MODELS = ("F1", "F2", "Conv7")
TIE_BREAKS = ("position", "random")  # how a sync orders equal weights (LaPerm(tie_break=...))

# name -> (rotation in degrees, zoom fraction, shift fraction, horizontal flip)
AUGMENTATION_SETTINGS: dict[str, tuple[float, float, float, bool]] = {
    "Conv7": (10.0, 0.10, 0.10, False),
    "Conv2": (15.0, 0.0, 0.10, True),
    "Conv4": (15.0, 0.0, 0.10, True),
    "Conv13": (15.0, 0.0, 0.10, True),
    "ResNet50": (0.0, 0.0, 0.10, True),
}
NOT_AUGMENTED = ("F1", "F2")
