"""Data: raw sources (embedded MNIST, local files, tfds), preprocessing, splits, loading."""
