"""The library's version: one home, read by the package, the run records and setup.py."""

__version__ = "0.1.0"
