"""Export: plain Keras models and the compact format."""
