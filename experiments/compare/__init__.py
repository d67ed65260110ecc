"""Head to head (``python -m experiments.compare --suite lenet``): every method on the same
network, data, epochs and seeds, each with its own recipe; one table and one figure."""
