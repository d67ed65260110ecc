"""LaPerm F1/F2 re-examined with the authors' released checkpoints (``F1.h5``, ``F2.h5``).

``--mode stats``: what the files show without training: density per layer and per unit,
the selected positions on the 67 pixels that are 0 in every MNIST training image, units
without inputs or outputs, and the test accuracy of each file under other plausible
input preprocessings (a ReLU net without biases is scale invariant, so /255 vs raw
cannot matter; mean subtraction can).

``--mode continue``: the notebook loop (:func:`experiments.laperm_f1f2_diagnostics.
run_notebook_loop`, k = 250, test accuracy every 250 steps) started from the
checkpoint, for ``--epochs`` epochs, with the lr of ``--first_epoch``: does the
recipe keep, lose or improve the authors' network?

``--mode compare --kernels DIR``: train/test cross-entropy and accuracy of the
checkpoints and of the best networks that ``variant`` runs saved in ``DIR`` (with
``LAPERM_SAVE_DIR=DIR``), and how many selected positions each shares with the
checkpoint (Jaccard overlap per layer).

``--mode hybrid --layers 0``: the notebook loop from a fresh network whose listed Dense
layers are replaced by the checkpoint's (which layer carries the checkpoint's advantage?).

``--mode variant``: the notebook loop from scratch with what the checkpoints show and
the notebook does not: zero bias vectors (permuted with the weights, so they are 0
again after every sync but train between syncs) and, for F1, ``--keep 3/5`` instead
of 4/7. Prints the best accuracy and the position statistics of the best network.

    python -m experiments.laperm_checkpoints --mode stats
    python -m experiments.laperm_checkpoints --mode continue --net F2 --epochs 2
    LAPERM_SAVE_DIR=/tmp/k python -m experiments.laperm_checkpoints --mode variant --net F1 \
        --bias --keep 3/5 --seeds 1,2
    python -m experiments.laperm_checkpoints --mode compare --kernels /tmp/k
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

PUBLISHED = {"F1": 85.46, "F2": 78.14}
SHARED_VALUE = {"F1": 0.08, "F2": 0.03}
# The authors' released .h5 files (the pretrained/ folder of github.com/ihsuy/Train-by-Reconnect).
PRETRAINED = Path(os.environ.get("LAPERM_PRETRAINED", "pretrained"))


def _mnist_raw() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flattened float32 MNIST train and test images in 0..255, test labels."""
    from masktrainer.data.sources import load_embedded_mnist

    raw = load_embedded_mnist()
    flat = lambda images: images.reshape(len(images), -1).astype(np.float32)  # noqa: E731
    return flat(raw.x_train), flat(raw.x_test), np.asarray(raw.y_test)


def checkpoint_kernels(net: str) -> list[np.ndarray]:
    """The kernels of ``PRETRAINED/<net>.h5`` (its zero biases dropped as ``evaluate`` does)."""
    from masktrainer.evaluate.h5 import read_weight_file

    found = read_weight_file(PRETRAINED / f"{net}.h5")
    return [dict(layer.weights)[f"{layer.name}/kernel:0"] for layer in found.layers]


def forward(kernels: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """F1/F2 logits: ReLU between the bias-free layers (softmax does not change argmax)."""
    h = x
    for index, kernel in enumerate(kernels):
        h = h @ kernel
        if index < len(kernels) - 1:
            h = np.maximum(h, 0.0)
    return h


def accuracy(kernels: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    return 100.0 * float(np.mean(np.argmax(forward(kernels, x), axis=1) == y))


def position_stats(kernels: list[np.ndarray], dead: np.ndarray) -> list[str]:
    """One line per layer: density, non-zeros per unit, dead-pixel selection, unused units."""
    lines = []
    for index, kernel in enumerate(kernels):
        nonzero = kernel != 0
        per_unit = nonzero.sum(axis=0)
        line = (f"  layer {index} {kernel.shape}: non-zero {100 * nonzero.mean():.2f} %, per unit "
                f"{per_unit.min()}-{per_unit.max()} (mean {per_unit.mean():.1f}); values "
                f"{sorted({float(v) for v in np.unique(kernel)})}")
        if index == 0:
            line += (f"; on the {int(dead.sum())} always-0 pixels {100 * nonzero[dead].mean():.2f} %"
                     f", elsewhere {100 * nonzero[~dead].mean():.2f} %")
        if index < len(kernels) - 1:
            line += f"; rows (inputs) with no weight: {int(np.sum(nonzero.sum(axis=1) == 0))}"
        lines.append(line)
    return lines


def stats() -> None:
    x_train, x_test, y_test = _mnist_raw()
    dead = x_train.max(axis=0) == 0
    mean = (x_train / 255).mean(axis=0)
    std = float((x_train / 255 - mean).std())
    inputs = {
        "x / 255 (the notebook)": x_test / 255,
        "raw 0..255": x_test,
        "x / 255 - train pixel mean": x_test / 255 - mean,
        "(x / 255 - train pixel mean) / train std": (x_test / 255 - mean) / std,
        "(x / 255 - 0.1307) / 0.3081": (x_test / 255 - 0.1307) / 0.3081,
        "x / 255 - test pixel mean": x_test / 255 - (x_test / 255).mean(axis=0),
        "binarised (x > 127)": (x_test > 127).astype(np.float32),
    }
    for net in PUBLISHED:
        kernels = checkpoint_kernels(net)
        print(f"{net}.h5 (published {PUBLISHED[net]:.2f} %):")
        for line in position_stats(kernels, dead):
            print(line)
        for name, x in inputs.items():
            print(f"  test accuracy with inputs {name}: {accuracy(kernels, x, y_test):.2f} %")


def cross_entropy(kernels: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    logits = forward(kernels, x)
    logits = logits - logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(y)), y]))


def compare(folder: Path) -> None:
    """Checkpoint vs the networks ``--mode variant`` saved in ``folder``: loss, accuracy,
    and the overlap (Jaccard) of their selected positions with the checkpoint's, per layer."""
    from masktrainer.data.sources import load_embedded_mnist

    x_train, x_test, y_test = _mnist_raw()
    y_train = np.asarray(load_embedded_mnist().y_train)
    x_train, x_test = x_train / 255, x_test / 255
    for net in PUBLISHED:
        reference = checkpoint_kernels(net)
        found = {f"{net}.h5": reference}
        for path in sorted(folder.glob(f"{net}_*.npz")):
            with np.load(path) as saved:
                found[path.stem] = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        for name, kernels in found.items():
            jaccard = [float(np.sum((a != 0) & (b != 0)) / np.sum((a != 0) | (b != 0)))
                       for a, b in zip(kernels, reference)]
            print(f"{name}: train CE {cross_entropy(kernels, x_train, y_train):.4f}, test CE "
                  f"{cross_entropy(kernels, x_test, y_test):.4f}, test accuracy "
                  f"{accuracy(kernels, x_test, y_test):.2f} %, Jaccard with {net}.h5 per layer "
                  f"{', '.join(f'{j:.3f}' for j in jaccard)}", flush=True)


def _checkpoint_model(net: str):
    """The notebook model holding the checkpoint (through ``evaluate``'s loader)."""
    from masktrainer.evaluate.h5 import read_weight_file
    from masktrainer.evaluate.scoring import checkpoint_model
    from masktrainer.methods import get_method

    checkpoints = get_method("LaPerm").checkpoints
    model, _ = checkpoint_model(checkpoints, net, read_weight_file(PRETRAINED / f"{net}.h5"),
                                checkpoints.input_shape(net), 10)
    return model


def with_zero_biases(model):
    """A copy of the F1/F2 model whose Dense layers have a bias, initialised to 0."""
    import keras

    def clone(layer):
        if isinstance(layer, keras.layers.Dense):
            config = {**layer.get_config(), "use_bias": True, "bias_initializer": "zeros"}
            return keras.layers.Dense.from_config(config)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    for source, target in zip(model.layers, copy.layers):
        if isinstance(source, keras.layers.Dense):
            target.kernel.assign(source.kernel)
    return copy


def _fresh_model(net: str, seed: int, keep: tuple[int, int] | None, bias: bool):
    from laperm.weights import agnosticize
    from masktrainer import RunConfig, build_model

    cfg = RunConfig(traintype="LaPerm", nettype=net, seed=seed, protocol="original")
    model = build_model(cfg, (28, 28, 1), 10, seed)
    if keep is not None:
        agnosticize(model, SHARED_VALUE[net], [keep] * len(model.trainable_variables), seed=seed)
    return with_zero_biases(model) if bias else model


def _kernels(model) -> list[np.ndarray]:
    import keras

    return [layer.kernel.numpy() for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def _trace(result) -> str:
    return ", ".join(f"{step}: {acc:.2f}" for step, acc in result.trace)


def continue_from_checkpoint(net: str, seed: int, epochs: int, first_epoch: int) -> None:
    from experiments.laperm_f1f2_diagnostics import run_notebook_loop

    model = _checkpoint_model(net)
    start = _kernels(model)
    result = run_notebook_loop(net, seed, epochs, model=model, first_epoch=first_epoch)
    end = _kernels(model)
    moved = [int(np.sum((a != 0) != (b != 0)) // 2) for a, b in zip(start, end)]
    print(f"continue {net}.h5 seed {seed}, {epochs} epochs from lr 1e-3*0.95^{first_epoch}: "
          f"test accuracy at (step: %) {_trace(result)}; best {result.best:.2f} %, last "
          f"{result.trace[-1][1]:.2f} %; selected positions moved per layer {moved}", flush=True)


def variant(net: str, seed: int, epochs: int | None, keep: tuple[int, int] | None,
            bias: bool) -> float:
    from experiments.laperm_f1f2_diagnostics import run_notebook_loop

    model = _fresh_model(net, seed, keep, bias)
    result = run_notebook_loop(net, seed, epochs, model=model)
    model.set_weights(result.best_weights)
    x_train, _, _ = _mnist_raw()
    label = f"{net} seed {seed} keep {keep or 'notebook'} bias {bias}"
    print(f"variant {label}: best test accuracy {result.best:.2f} % (last "
          f"{result.trace[-1][1]:.2f} %); test accuracy at (step: %) {_trace(result)}", flush=True)
    for line in position_stats(_kernels(model), x_train.max(axis=0) == 0):
        print(line, flush=True)
    if os.environ.get("LAPERM_SAVE_DIR"):  # the best network's kernels, for comparisons
        name = f"{net}_seed{seed}_keep{'-'.join(map(str, keep)) if keep else 'nb'}_bias{int(bias)}"
        np.savez(Path(os.environ["LAPERM_SAVE_DIR"]) / f"{name}.npz", *_kernels(model))
    return result.best


def hybrid(net: str, seed: int, epochs: int | None, layers: list[int]) -> float:
    """The notebook loop from a fresh network whose Dense ``layers`` are the checkpoint's."""
    from experiments.laperm_f1f2_diagnostics import run_notebook_loop

    model = _fresh_model(net, seed, None, False)
    import keras

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    for index, kernel in enumerate(checkpoint_kernels(net)):
        if index in layers:
            dense[index].kernel.assign(kernel)
    result = run_notebook_loop(net, seed, epochs, model=model)
    print(f"hybrid {net} seed {seed}, layers {layers} from {net}.h5, the rest fresh: best test "
          f"accuracy {result.best:.2f} % (last {result.trace[-1][1]:.2f} %); test accuracy at "
          f"(step: %) {_trace(result)}", flush=True)
    return result.best


def _keep(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    keep, total = (int(part) for part in value.split("/"))
    if not 0 < keep <= total:
        raise ValueError(value)
    return keep, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["stats", "continue", "variant", "compare", "hybrid"],
                        default="stats")
    parser.add_argument("--kernels", default=None,
                        help="compare: the folder LAPERM_SAVE_DIR pointed variant runs at")
    parser.add_argument("--net", choices=sorted(PUBLISHED), default="F1")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--epochs", type=int, default=None,
                        help="continue: default 2; variant: default the notebook's")
    parser.add_argument("--first_epoch", type=int, default=0,
                        help="continue: the lr schedule starts at this epoch")
    parser.add_argument("--keep", default=None, help="variant: keep/total, e.g. 3/5")
    parser.add_argument("--bias", action="store_true", help="variant: zero bias vectors")
    parser.add_argument("--layers", default="0",
                        help="hybrid: the Dense layers (0-based) taken from the checkpoint")
    args = parser.parse_args(argv)
    try:
        seeds = [int(seed) for seed in args.seeds.split(",")]
        keep = _keep(args.keep)
    except ValueError:
        parser.error(f"--seeds takes integers and --keep KEEP/TOTAL (got {args.seeds!r}, "
                     f"{args.keep!r})")
    if keep is not None and (args.net != "F1" or args.mode != "variant"):
        parser.error("--keep is for --mode variant --net F1 (F2's three layers keep 1/15, 1/7, 1/3)")
    if args.mode == "stats":
        stats()
        return 0
    if args.mode == "compare":
        if not args.kernels or not Path(args.kernels).is_dir():
            parser.error("--mode compare needs --kernels DIR (a folder of saved variant runs)")
        compare(Path(args.kernels))
        return 0
    for seed in seeds:
        if args.mode == "continue":
            continue_from_checkpoint(args.net, seed, args.epochs or 2, args.first_epoch)
        elif args.mode == "hybrid":
            hybrid(args.net, seed, args.epochs, [int(i) for i in args.layers.split(",")])
        else:
            variant(args.net, seed, args.epochs, keep, args.bias)
    return 0


if __name__ == "__main__":
    sys.exit(main())
