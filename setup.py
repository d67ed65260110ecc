"""Install masktrainer, the LaPerm optimizer wrapper and the plotter: ``pip install .``."""

import re
from pathlib import Path

from setuptools import find_namespace_packages, setup

# The version has one home, masktrainer/version.py (read, not imported: no dependencies yet).
VERSION = re.search(r'__version__ = "([^"]+)"',
                    Path(__file__).with_name("masktrainer").joinpath("version.py").read_text()
                    ).group(1)

setup(
    name="masktrainer",
    version=VERSION,
    description=(
        "Keras 3 / TensorFlow reference library for training the wiring of networks "
        "whose weights stay at their random initial values"
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    # Namespace discovery also lists the data folders (masktrainer/datasets/...). laperm and
    # plotting are public top-level names (import laperm; python -m plotting.plotter). The
    # experiments (benchmarks, cross-checks) are not installed: they run from a checkout
    # (python -m experiments.NAME), and the library needs nothing from them.
    packages=find_namespace_packages(include=["masktrainer*", "laperm*", "plotting*"]),
    package_data={"masktrainer": ["datasets/mnist/*.gz", "datasets/splits/*.npy",
                                  "presets/*.flags"]},
    include_package_data=True,
    install_requires=[
        "tensorflow>=2.16",  # Keras 3 era
        "keras>=3.0",
        "tensorflow-datasets>=4.9",
        "importlib_resources",  # needed by tensorflow-datasets but not pulled in by it
        "numpy>=1.26",
        "matplotlib>=3.7",
        "absl-py>=1.0",
        "h5py>=3.0",  # evaluate reads Keras 2 .h5 checkpoints (keras pulls it in too)
        "tensorboard>=2.16",  # TF does not pull it in
    ],
    # bench: PyTorch for `python -m experiments.benchmark_peers` (the originals' nets).
    extras_require={"test": ["pytest>=7"], "bench": ["torch>=2.2"]},
    # `masktrainer ...` is `python -m masktrainer ...` (train, export, evaluate).
    entry_points={"console_scripts": ["masktrainer = masktrainer.cli:main"]},
)
