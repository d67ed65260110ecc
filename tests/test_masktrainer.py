"""``keras.models.load_model`` in a fresh process after ``import masktrainer`` or
``import laperm``, whatever the import order, while ``python -m masktrainer --help`` still
starts without TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.run.evaluation import evaluation_compile_args

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (28, 28, 1)

# Loads every model named on the command line and prints each one's predictions as JSON.
LOADER = """
import json, sys
import numpy as np
{imports}
x = np.load(sys.argv[1])
out = {{}}
for path in sys.argv[2:]:
    model = keras.models.load_model(path)
    out[path] = model.predict(x, verbose=0).tolist()
print("PREDICTIONS " + json.dumps(out))
"""


def _fresh_python(code: str, *args: str) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)


def _load_in_fresh_process(imports: str, x_path: Path, paths: list[Path]) -> dict:
    result = _fresh_python(LOADER.format(imports=imports), str(x_path), *map(str, paths))
    assert result.returncode == 0, result.stderr[-3000:]
    line = [l for l in result.stdout.splitlines() if l.startswith("PREDICTIONS ")][-1]
    return json.loads(line.removeprefix("PREDICTIONS "))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One compiled model of every method (one training step, so the optimizer is built),
    a LaPerm-compiled plain Keras model, the inputs and the predictions before saving."""
    folder = tmp_path_factory.mktemp("models")
    x = np.random.RandomState(0).rand(4, *SHAPE).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[[0, 1, 2, 3]]
    np.save(folder / "x.npy", x)
    models = {}
    for method in methods.METHODS:
        cfg = RunConfig(**{"traintype": method.train_types[0], **method.recipe.example()})
        runtime = method.runtime
        model = runtime.build_model(cfg, SHAPE, 10, run_seed=1, prepared=runtime.prepare(cfg))
        model.compile(optimizer=runtime.make_optimizer(cfg, 1),
                      **evaluation_compile_args(cfg, method))
        model.train_on_batch(x, y)
        models[method.key] = model
    import laperm

    plain = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    plain.compile(optimizer=laperm.LaPerm(keras.optimizers.Adam(), sync_period=2),
                  loss="categorical_crossentropy")
    plain.train_on_batch(x, y)
    paths, expected = {}, {}
    for key, model in models.items():
        paths[key] = folder / f"{key}.keras"
        model.save(paths[key])
        expected[key] = model.predict(x, verbose=0)
    laperm_path = folder / "laperm_plain.keras"
    plain.save(laperm_path)
    return folder / "x.npy", paths, expected, laperm_path


@pytest.mark.parametrize("imports", [
    "import masktrainer\nimport keras",
    "import keras\nimport masktrainer",
    # a module that imports Keras itself, first: registering must wait until it is complete
    "from masktrainer.nn.initializers import ScoreUniform\nimport keras",
])
def test_every_methods_model_loads_after_import_masktrainer(saved, imports):
    x_path, paths, expected, _ = saved
    predictions = _load_in_fresh_process(imports, x_path, list(paths.values()))
    for key, path in paths.items():
        np.testing.assert_allclose(predictions[str(path)], expected[key], rtol=1e-5, atol=1e-6,
                                   err_msg=key)


@pytest.mark.parametrize("imports", ["import laperm\nimport keras",
                                     "import keras\nimport laperm",
                                     "import laperm\nimport tensorflow as tf\nimport keras"])
def test_laperm_compiled_model_loads_after_import_laperm(saved, imports):
    x_path, _, _, laperm_path = saved
    code = LOADER.format(imports=imports) + (
        "\nassert type(keras.models.load_model(sys.argv[2]).optimizer).__name__ == 'LaPerm'"
        "\nassert 'masktrainer' not in sys.modules\n")
    result = _fresh_python(code, str(x_path), str(laperm_path))
    assert result.returncode == 0, result.stderr[-3000:]


def test_without_the_import_the_model_does_not_load(saved):
    """The test above is not vacuous: plain Keras does not know the library's classes."""
    x_path, paths, _, _ = saved
    result = _fresh_python(LOADER.format(imports="import keras"), str(x_path),
                           str(paths["self_pruning"]))
    assert result.returncode != 0 and "MaskedDense" in result.stderr


def test_help_answers_before_tensorflow_or_keras_loads():
    code = ("import runpy, sys\nsys.argv = ['masktrainer', '--help']\n"
            "try:\n    runpy.run_module('masktrainer', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
            "print('HEAVY', heavy)\n")
    result = _fresh_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--traintype" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "HEAVY []"
