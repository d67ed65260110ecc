"""Benchmarks and cross-checks against the published numbers: ``python -m experiments.<name>``."""
