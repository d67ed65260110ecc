"""Small Keras 2 ``.h5`` weight files written with h5py, in both layouts of Keras 2.

The helpers reach the tests as the ``keras2`` fixture (test modules are imported in
importlib mode).
"""

import json
from types import SimpleNamespace

import h5py
import numpy as np
import pytest


def write_keras2_h5(path, layers, whole_model=False):
    """``layers``: [(layer name, [(weight name, array), ...]), ...] in model order (weightless
    layers with an empty list). ``whole_model``: the layout of ``model.save`` (the weights in
    the group model_weights, next to a model_config), else that of ``save_weights``."""
    with h5py.File(path, "w") as handle:
        root = handle
        if whole_model:
            handle.attrs["model_config"] = json.dumps({"class_name": "Sequential"}).encode()
            root = handle.create_group("model_weights")
        root.attrs["layer_names"] = np.array([name.encode() for name, _ in layers])
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = b"2.3.0-tf"
        for name, weights in layers:
            group = root.create_group(name)
            group.attrs["weight_names"] = np.array([w.encode() for w, _ in weights], dtype="S")
            for weight, values in weights:
                group.create_dataset(weight, data=np.asarray(values, np.float32))
    return path


def f1_layers(kernel, bias=None):
    """F1 as the released F1.h5 stores it: flatten, then the kernel and a (zero) bias."""
    bias = np.zeros(kernel.shape[1], np.float32) if bias is None else bias
    return [("flatten_8", []),
            ("dense_10", [("dense_10/kernel:0", kernel), ("dense_10/bias:0", bias)])]


def agnostic_kernel(seed, shape=(784, 10), value=0.08, keep=0.6):
    rng = np.random.RandomState(seed)
    return np.where(rng.uniform(size=shape) < keep, value, 0.0).astype(np.float32)


@pytest.fixture
def keras2():
    return SimpleNamespace(write=write_keras2_h5, f1_layers=f1_layers,
                           agnostic_kernel=agnostic_kernel)
