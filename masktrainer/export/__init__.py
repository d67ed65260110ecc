"""Export: plain Keras models and the compact format."""

# The file names an export writes (here, not in the CLI: the formats' modules use them too).
PLAIN_NAME = "plain.keras"
COMPACT_NAME = "compact.npz"
