"""Cross-check C10: does this library's FreePruning Conv2 compute what the PyTorch peer does?

``python -m experiments.self_pruning_c10_checks --data_dir DIR/cifar10`` (needs PyTorch:
``pip install ".[bench]"``)
builds the library's FreePruning Conv2 (the preset ``self_pruning_conv2``: ``mask_rs``, He
truncated normal, Adam 3e-3) and the peer :class:`experiments.peers.torch_nets.MaskedConv2`
with the *same* kernels and scores, and compares on the same CIFAR-10 images (our preset's
sets, the first training images of a seeded permutation):

1. forward output and score gradients, at initialisation (every mask 1) and in a pruned state
   (scores U(-0.07, 0.1): the ``mask_rs`` factor near 1.7), through a traced step as ``fit``
   runs it (the cross-entropy from the logits), against the peer and against dL/dW_eff * kernel;
2. a few training steps: the library's compiled train step (``train_on_batch``, as ``fit``)
   against the peer with the original's Adam update (:class:`~experiments.peers.torch_nets.
   KerasAdam`, float32 and float64) and with ``torch.optim.Adam`` (epsilon 1e-7);
3. the score gradients' size next to Adam's epsilon (scores: FreePruning; kernels: Baseline);
4. with ``--trajectory N``: the peer's pruned fraction per layer over its first N steps with
   either Adam (about 0.07 CPU-s a step and side on an EPYC core).

Findings: ``experiments/findings/self_pruning_conv2_controlled.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from masktrainer.safe_io import given_paths_problem

LAYERS = ("conv_1", "conv_2", "dense_1", "dense_2", "output")


def torch_layout(a: np.ndarray) -> np.ndarray:
    """A Keras HWIO conv kernel as PyTorch's OIHW; dense kernels stay (in, out)."""
    return a.transpose(3, 2, 0, 1) if a.ndim == 4 else a


def library_model(input_shape: tuple[int, ...], seed: int = 1):
    """The preset's FreePruning Conv2, built and compiled as the trainer does."""
    from masktrainer import methods
    from masktrainer.config import RunConfig
    from masktrainer.run.evaluation import evaluation_compile_args

    cfg = RunConfig(traintype="FreePruning", nettype="Conv2", masktype="mask_rs",
                    initializer="he", lr=0.003, batchsize=25, seed=seed, protocol="original")
    method = methods.method_of(cfg)
    methods.register_keras_objects()
    model = method.runtime.build_model(cfg, input_shape, 10, seed, method.runtime.prepare(cfg))
    model.compile(optimizer=method.runtime.make_optimizer(cfg, seed),
                  **evaluation_compile_args(cfg, method))
    return model, [model.get_layer(name) for name in LAYERS]


def peer_copy(masked, input_shape, dtype=None):
    """The PyTorch peer with the library model's kernels and scores."""
    import torch

    from experiments.peers.torch_nets import MaskedConv2

    net = MaskedConv2("mask_rs", False, input_hw=input_shape[:2], channels=input_shape[2])
    with torch.no_grad():
        for layer, peer in zip(masked, [*net.convs, *net.dense]):
            peer.kernel.copy_(torch.from_numpy(torch_layout(np.asarray(layer.kernel))))
            peer.score.copy_(torch.from_numpy(torch_layout(np.asarray(layer.score))))
    return net.to(dtype) if dtype is not None else net


def _peer_loss(net, x, y):
    import torch
    import torch.nn.functional as F

    dtype = next(net.parameters()).dtype
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(dtype)
    return F.cross_entropy(net(images), torch.from_numpy(y.argmax(1)))


def compare_gradients(model, masked, x, y) -> dict:
    """Loss and score gradients of the library's traced step, the peer and dL/dW_eff * kernel
    (the original's straight-through rule, the mask_rs factor not in it)."""
    import tensorflow as tf

    from masktrainer.methods.self_pruning.masks import rescaled_mask

    @tf.function  # as fit traces it: the loss is read from the logits behind the softmax
    def library(x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True))
        return loss, tape.gradient(loss, [layer.score for layer in masked])

    loss, grads = library(x, y)
    effective = [tf.Variable(np.asarray(layer.kernel)
                             * rescaled_mask(tf.constant(np.asarray(layer.score))).numpy())
                 for layer in masked]
    with tf.GradientTape() as tape:
        h = tf.constant(x)
        for i, kernel in enumerate(effective):
            if i < 2:
                h = tf.nn.relu(tf.nn.conv2d(h, kernel, 1, "SAME"))
            else:
                h = h @ kernel
                h = tf.nn.relu(h) if i < len(effective) - 1 else h
            if i == 1:
                h = tf.reshape(tf.nn.max_pool2d(h, 2, 2, "VALID"), (len(x), -1))
        plain = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(y, h))
    d_effective = tape.gradient(plain, effective)
    net = peer_copy(masked, x.shape[1:])
    peer = _peer_loss(net, x, y)
    peer.backward()
    layers = []
    for layer, g, d, p in zip(masked, grads, d_effective, [*net.convs, *net.dense]):
        g, rule = np.asarray(g), np.asarray(d) * np.asarray(layer.kernel)
        scale = g.size / (1 + int((np.asarray(layer.score) > 0).sum()))
        size = np.abs(rule).max()
        layers.append({"layer": layer.name, "scale": scale,
                       "vs_rule": float(np.abs(g - rule).max() / size),
                       "vs_rule_times_scale": float(np.abs(g - rule * scale).max() / size),
                       "vs_peer": float(np.abs(torch_layout(g) - p.score.grad.numpy()).max()
                                        / size)})
    return {"loss": float(loss), "plain_loss": float(plain), "peer_loss": float(peer.detach()),
            "layers": layers}


def compare_steps(model, masked, x, y, steps: int, batch: int = 25) -> dict:
    """Max |score difference| per layer after ``steps`` steps: the library's compiled train step
    against the peer with each Adam, all from the same scores; and the movement itself."""
    import torch

    from experiments.peers.torch_nets import KerasAdam

    start = [torch_layout(np.asarray(layer.score)).copy() for layer in masked]
    peers = {}
    for name, make, dtype in (
            ("keras Adam float32", lambda p: KerasAdam(p, lr=3e-3), torch.float32),
            ("keras Adam float64", lambda p: KerasAdam(p, lr=3e-3), torch.float64),
            ("torch Adam float32", lambda p: torch.optim.Adam(p, lr=3e-3, eps=1e-7),
             torch.float32)):
        net = peer_copy(masked, x.shape[1:], dtype)
        scores = [p.score for p in [*net.convs, *net.dense]]
        optimizer = make(scores)
        for i in range(steps):
            optimizer.zero_grad()
            _peer_loss(net, x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]).backward()
            optimizer.step()
        peers[name] = [s.detach().double().numpy() for s in scores]
    for i in range(steps):
        model.train_on_batch(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch])
    ours = [torch_layout(np.asarray(layer.score)) for layer in masked]
    return {"moved": [float(np.abs(a - b).max()) for a, b in zip(ours, start)],
            **{name: [float(np.abs(a - b).max()) for a, b in zip(ours, theirs)]
               for name, theirs in peers.items()}}


def gradient_sizes(model, masked, x, y) -> list[dict]:
    """Per layer: median |score gradient| and |kernel gradient|, and the share of the non-zero
    ones below 3.16e-6 (TF's effective epsilon at step 1: 1e-7 / sqrt(1 - 0.999))."""
    import tensorflow as tf

    with tf.GradientTape(persistent=True) as tape:
        tape.watch([layer.kernel.value for layer in masked])  # frozen: watched for this only
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True))
    rows = []
    for layer in masked:
        score = np.abs(np.asarray(tape.gradient(loss, layer.score)))
        kernel = np.abs(np.asarray(tape.gradient(loss, layer.kernel.value)))
        rows.append({"layer": layer.name, "score_median": float(np.median(score)),
                     "score_small": float((score[score > 0] < 3.16e-6).mean()),
                     "kernel_median": float(np.median(kernel)),
                     "kernel_small": float((kernel[kernel > 0] < 3.16e-6).mean())})
    return rows


def trajectory(masked, x, y, steps: int, batch: int = 25) -> dict[str, list[list[float]]]:
    """The peer's pruned % per layer every 50 steps, with each Adam, from the same scores."""
    import torch

    from experiments.peers.torch_nets import KerasAdam

    out = {}
    for name, make in (("keras", lambda p: KerasAdam(p, lr=3e-3)),
                       ("torch", lambda p: torch.optim.Adam(p, lr=3e-3, eps=1e-7))):
        net = peer_copy(masked, x.shape[1:])
        layers = [*net.convs, *net.dense]
        optimizer, rows = make([p.score for p in layers]), []
        for i in range(steps):
            optimizer.zero_grad()
            _peer_loss(net, x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]).backward()
            optimizer.step()
            if (i + 1) % 50 == 0:
                rows.append([100 * float((p.score <= 0).float().mean()) for p in layers])
        out[name] = rows
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.self_pruning_c10_checks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", required=True, help="the CIFAR-10 binary batches")
    parser.add_argument("--steps", type=int, default=3, help="training steps compared")
    parser.add_argument("--trajectory", type=int, default=0, help="peer steps per Adam (0: none)")
    args = parser.parse_args(argv)
    if unusable := given_paths_problem({"--data_dir": args.data_dir}):
        parser.error(unusable)
    if not Path(args.data_dir).is_dir():
        parser.error(f"--data_dir {args.data_dir}: not a folder")
    if not 1 <= args.steps <= 1000 or not 0 <= args.trajectory <= 10_000:
        parser.error("--steps must be in 1..1000 and --trajectory in 0..10000")
    try:
        import torch
    except ImportError:
        parser.error("PyTorch is not installed (pip install .[bench])")
    import tensorflow as tf

    torch.set_num_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    from masktrainer.data.preprocessing import prepare
    from masktrainer.data.sources import load_from_files

    splits = prepare(load_from_files("cifar10", args.data_dir), 5000, "train_stats")
    count = 25 * max(args.steps, args.trajectory, 1)
    index = np.random.RandomState(1).permutation(len(splits.x_train))[:count]
    x, y = splits.x_train[index].copy(), splits.y_train[index].copy()
    del splits
    model, masked = library_model(x.shape[1:])
    start = time.process_time()
    print("1. sizes of the gradients at initialisation (FreePruning: scores; Baseline: kernels)")
    for row in gradient_sizes(model, masked, x[:25], y[:25]):
        print("   {layer:8s} score median {score_median:.1e}, < 3.2e-6: {score_small:.3f}; "
              "kernel median {kernel_median:.1e}, < 3.2e-6: {kernel_small:.3f}".format(**row))
    print("2. forward and score gradients, library vs peer vs dL/dW_eff * kernel (max error "
          "relative to the largest gradient)")
    initial = [np.asarray(layer.score).copy() for layer in masked]
    rng = np.random.RandomState(0)
    for state in ("initial (all kept)", "pruned (scores U(-0.07, 0.1))"):
        if state.startswith("pruned"):
            for layer in masked:
                layer.score.assign(rng.uniform(-0.07, 0.1, layer.score.shape).astype(np.float32))
        found = compare_gradients(model, masked, x[:25], y[:25])
        print(f"   {state}: loss library {found['loss']:.6f}, plain {found['plain_loss']:.6f}, "
              f"peer {found['peer_loss']:.6f}")
        for row in found["layers"]:
            print("     {layer:8s} mask_rs factor {scale:.4f}: vs the rule {vs_rule:.1e} (the "
                  "rule times the factor: {vs_rule_times_scale:.1e}), vs the peer "
                  "{vs_peer:.1e}".format(**row))
    for layer, score in zip(masked, initial):
        layer.score.assign(score)
    print(f"3. {args.steps} training step(s) from the same scores: max |library - peer| per layer")
    steps = compare_steps(model, masked, x, y, args.steps)
    for name, values in steps.items():
        print(f"   {name:19s} " + "  ".join(f"{v:.1e}" for v in values))
    if args.trajectory:
        print(f"4. the peer's pruned % per layer ({', '.join(LAYERS)}) every 50 steps")
        for name, rows in trajectory(masked, x, y, args.trajectory).items():
            print(f"   {name} Adam: " + "; ".join("/".join(f"{v:.2f}" for v in row)
                                              for row in rows))
    print(f"({time.process_time() - start:.0f} CPU-s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
