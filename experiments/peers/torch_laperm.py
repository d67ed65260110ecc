"""Cross-checks C1/C2's controlled comparison: LaPerm F1 and F2 on MNIST in PyTorch.

``python -m experiments.peers.controlled --target C1 --epochs 10 --seeds 1,2,3 --data_dir DIR``
(C2: ``--epochs 25``). Written for this check from the specification of Train-by-Reconnect's
``LaPerm.py`` and ``F1_and_F2.ipynb`` (not copied, and sharing no code with :mod:`laperm`):

* :class:`LaPerm` wraps Adam (beta 0.9 / 0.999, epsilon 1e-7): by default (``--adam keras``)
  the original's ``tf.keras`` update, epsilon added to the root of the uncorrected second
  moment (:class:`~experiments.peers.torch_nets.KerasAdam`); ``--adam torch`` is
  ``torch.optim.Adam``, epsilon after the bias correction (this comparison's first runs). After
  the inner step of every k-th global step (1-based) each weight row — one output unit's
  incoming weights — is replaced by its *initial* values sorted into the rank order of its
  current values. The Adam moments and step count are left as they are (the original never
  resets them). Equal current values are ordered by position (a stable sort), which is what
  the original's ``tf.argsort`` does in practice and the library's default ``tie_break``.
* :class:`AgnosticMLP`: the notebook's F1 (784→10) and F2 (784-128-64-10, ReLU, L2 1e-4 on
  the two hidden kernels) without biases; every kernel entry is the shared value, kept with
  probability keep/total (``agnosticize``: a draw in 1..total kept when ≤ keep).
* :func:`train_seed` is ``LaPermTrainLoop.fit``: all 60,000 training images (x/255, no
  augmentation) reshuffled every epoch, batches of 128 (the last one 96), lr 1e-3·0.95^epoch,
  the objective the batch *sum* of the cross-entropies plus batch × the L2 terms, k = 250.

Two readings of the test accuracy, both on permuted (synchronised) weights:
``best_notebook``, the best of the evaluations every 250 steps right after each sync (the
notebook's ``best_weights`` and published protocol), and ``best_epoch``, the best of the
evaluations before training and after every epoch on the reconnected current weights (what the
library's ``laperm_f1``/``laperm_f2`` presets and cross-checks C1/C2 report).
``--init_from RUN_DIR`` starts from a masktrainer run's initial kernels instead of the seed's
own draw, to tell the masks' share of the seed spread from the training's; the report's file
name and JSON carry the source run's folder name, so runs from different sources do not
overwrite each other.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from experiments.peers.controlled_c10 import adam
from experiments.peers.torch_nets import accuracy
from masktrainer.data.sources import load_from_files
from masktrainer.safe_io import atomic_write_json

#: net -> (layer sizes, shared value, (keep, total) per kernel, L2 factor per kernel, epochs)
NETS: dict[str, tuple[tuple[int, ...], float, tuple[tuple[int, int], ...], tuple[float, ...],
                      int]] = {
    "F1": ((784, 10), 0.08, ((4, 7),), (0.0,), 10),
    "F2": ((784, 128, 64, 10), 0.03, ((1, 15), (1, 7), (1, 3)), (1e-4, 1e-4, 0.0), 25),
}
TARGET_NETS = {"C1": "F1", "C2": "F2"}
BATCH = 128
SYNC_PERIOD = 250  # k, and the notebook's validation period
EVAL_EVERY = 250


def mnist_sets(data_dir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The notebook's MNIST: every training image for training, the test set for validation
    and testing; x/255 as float32 (N, 784), int64 labels."""
    raw = load_from_files("mnist", data_dir)

    def flat(x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), -1).astype(np.float32) / np.float32(255.0)

    return {"train": (flat(raw.x_train), raw.y_train.astype(np.int64)),
            "test": (flat(raw.x_test), raw.y_test.astype(np.int64))}


def agnostic_kernel(fan_in: int, units: int, value: float, keep: int, total: int,
                    rng: np.random.Generator) -> np.ndarray:
    """(units, fan_in): ``value`` where a uniform draw from 1..total is ≤ keep, else 0 (drawn
    in Keras' (fan_in, units) layout, as ``agnosticize`` draws)."""
    kept = rng.integers(1, total + 1, size=(fan_in, units)) <= keep
    return np.where(kept, np.float32(value), np.float32(0.0)).T.copy()


class AgnosticMLP(nn.Module):
    """Bias-free dense layers with ReLU between them; logits out (softmax is in the loss)."""

    def __init__(self, net: str, rng: np.random.Generator) -> None:
        super().__init__()
        sizes, value, keeps, l2, _ = NETS[net]
        self.l2 = l2
        self.layers = nn.ModuleList()
        for fan_in, units, (keep, total) in zip(sizes[:-1], sizes[1:], keeps):
            layer = nn.Linear(fan_in, units, bias=False)
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(
                    agnostic_kernel(fan_in, units, value, keep, total, rng)))
            self.layers.append(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x

    def penalty(self) -> torch.Tensor:
        """Keras' l2(c) summed over the kernels: c · Σ w²."""
        return sum(c * layer.weight.square().sum() for c, layer in zip(self.l2, self.layers)
                   if c)


def rows(tensor: torch.Tensor) -> torch.Tensor:
    """The row view: one row per output unit (a 1-D tensor is one row)."""
    return tensor.reshape(1, -1) if tensor.dim() == 1 else tensor.reshape(tensor.shape[0], -1)


class LaPerm:
    """The LaPerm wrapper: ``inner`` proposes, every ``k``-th step re-permutes the initial rows."""

    def __init__(self, params, inner: torch.optim.Optimizer, k: int) -> None:
        self.params = list(params)
        self.inner, self.k = inner, k
        self.steps = self.syncs = self.last_moved = 0
        # Each row's initial values, ascending (the original sorts at the start of fit).
        self.pool = [rows(p.detach()).sort(dim=-1).values.clone() for p in self.params]
        self.previous = [p.detach().clone() for p in self.params]  # as the last sync left them

    def reconnected(self, index: int) -> torch.Tensor:
        """The initial values of each row put into the current rank order (ties by position):
        the j-th smallest current entry receives the j-th smallest initial value."""
        param = self.params[index].detach()
        order = rows(param).argsort(dim=-1, stable=True)
        out = torch.empty_like(self.pool[index])
        out.scatter_(1, order, self.pool[index])
        return out.reshape(param.shape)

    @torch.no_grad()
    def sync(self) -> None:
        moved = 0  # positions whose value differs from the previous sync's (or the initial)
        for i, param in enumerate(self.params):
            new = self.reconnected(i)
            moved += int((new != self.previous[i]).sum())
            self.previous[i] = new.clone()
            param.copy_(new)  # in place: the inner optimizer's state stays attached, untouched
        self.syncs += 1
        self.last_moved = moved

    def step(self) -> None:
        self.inner.step()
        self.steps += 1
        if self.steps % self.k == 0:
            self.sync()

    @contextlib.contextmanager
    def reconnected_weights(self) -> Iterator[None]:
        """Inside the block the weights are reconnected; afterwards the current ones return."""
        saved = [p.detach().clone() for p in self.params]
        with torch.no_grad():
            for i, param in enumerate(self.params):
                param.copy_(self.reconnected(i))
        try:
            yield
        finally:
            with torch.no_grad():
                for param, value in zip(self.params, saved):
                    param.copy_(value)

    def intact(self) -> bool:
        """Whether every row is a permutation of its initial values."""
        return all(torch.equal(rows(p.detach()).sort(dim=-1).values, pool)
                   for p, pool in zip(self.params, self.pool))


def library_kernels(run_dir: str | Path) -> list[np.ndarray]:
    """A masktrainer run's initial kernels, Keras layout (fan_in, units), in layer order."""
    from masktrainer import layout
    from masktrainer.npz import load_npz

    return list(load_npz(Path(run_dir) / layout.INITIAL_WEIGHTS_FILE).values())


def kernel_shapes(net: str) -> list[tuple[int, int]]:
    """The net's kernel shapes in Keras' layout (fan_in, units), in layer order."""
    sizes = NETS[net][0]
    return list(zip(sizes[:-1], sizes[1:]))


def check_kernels(net: str, kernels: list[np.ndarray]) -> None:
    """ValueError unless ``kernels`` have the net's shapes (Keras layout)."""
    if [np.shape(kernel) for kernel in kernels] != kernel_shapes(net):
        raise ValueError(f"{net} needs kernels of shapes {kernel_shapes(net)}, got "
                         f"{[np.shape(kernel) for kernel in kernels]}")


def init_from_kernels(net: str, run_dir: str) -> list[np.ndarray]:
    """``--init_from``: the run's initial kernels, shape-checked; any reason they cannot be
    used (a missing or unreadable file, a damaged archive, other shapes) is ValueError with
    one line."""
    import zipfile

    from masktrainer.errors import RunStateError
    from masktrainer.user_paths import shown

    try:
        kernels = library_kernels(run_dir)
        check_kernels(net, kernels)
    except (OSError, ValueError, RunStateError, zipfile.BadZipFile) as err:
        reason = " ".join(shown(str(err) or type(err).__name__).split())
        raise ValueError(f"--init_from {shown(run_dir)}: {reason}") from None
    return kernels


def init_from_name(run_dir: str) -> str:
    """The source run's folder name (for the report's file name and JSON)."""
    return Path(run_dir).expanduser().absolute().resolve().name


def make(net: str, seed: int, k: int = SYNC_PERIOD, kernels: list[np.ndarray] | None = None,
         adam_kind: str = "keras") -> tuple[AgnosticMLP, LaPerm, np.random.Generator]:
    """The seed's agnostic net, its LaPerm(Adam) and the generator that then shuffles.
    ``kernels`` (Keras layout) replace the seed's initial kernels; the shuffling stays the
    seed's. ``adam_kind``: ``keras`` (the original's update) or ``torch``."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = AgnosticMLP(net, rng)
    if kernels is not None:
        check_kernels(net, kernels)
        with torch.no_grad():
            for layer, kernel in zip(model.layers, kernels):
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T, np.float32)))
    inner = adam(model.parameters(), 1e-3, adam_kind)
    return model, LaPerm(model.parameters(), inner, k), rng


def train_seed(sets: dict[str, tuple[np.ndarray, np.ndarray]], net: str, epochs: int,
               seed: int, k: int = SYNC_PERIOD, eval_every: int = EVAL_EVERY,
               objective: str = "sum", kernels: list[np.ndarray] | None = None,
               echo: Callable[[str], Any] = print, adam_kind: str = "keras") -> dict[str, Any]:
    """One run of the notebook's loop; both readings (module docstring) and the trace.
    ``objective="mean"`` divides the notebook's objective by the batch size (Keras' ``fit``:
    the same direction, only Adam's epsilon weighs differently); ``kernels``, ``adam_kind``: see
    :func:`make`."""
    model, laperm, rng = make(net, seed, k, kernels, adam_kind)
    x, y = sets["train"]
    x_test, y_test = sets["test"]
    steps_trace: list[tuple[int, float]] = []
    epochs_trace = [{"epoch": 0, "test": accuracy(model, x_test, y_test, 1000)}]
    start_all = time.perf_counter()
    for epoch in range(epochs):
        start, first_eval = time.perf_counter(), len(steps_trace)
        for group in laperm.inner.param_groups:
            group["lr"] = 1e-3 * 0.95**epoch
        model.train()
        order = rng.permutation(len(x))
        for first in range(0, len(x), BATCH):
            index = order[first:first + BATCH]
            xb, yb = torch.from_numpy(x[index]), torch.from_numpy(y[index])
            # The notebook differentiates the per-sample vector CE_i + Σ regularisers: the
            # batch sum of CE plus batch size × the penalty.
            loss = F.cross_entropy(model(xb), yb, reduction="sum")
            if any(model.l2):
                loss = loss + len(index) * model.penalty()
            if objective == "mean":
                loss = loss / len(index)
            laperm.inner.zero_grad()
            loss.backward()
            laperm.step()
            if laperm.steps % eval_every == 0:
                steps_trace.append((laperm.steps, accuracy(model, x_test, y_test, 1000)))
                model.train()
        with laperm.reconnected_weights():
            row = {"epoch": epoch + 1, "test": accuracy(model, x_test, y_test, 1000),
                   "steps": laperm.steps, "syncs": laperm.syncs, "last_moved": laperm.last_moved,
                   "seconds": round(time.perf_counter() - start, 1)}
        epochs_trace.append(row)
        recent = max((a for _, a in steps_trace[first_eval:]), default=float("nan"))
        echo(f"{net} seed {seed} epoch {epoch + 1:3d}: test (reconnected) {row['test']:.2f}%  "
             f"best of this epoch's 250-step evaluations {recent:.2f}%  syncs {laperm.syncs}, "
             f"last moved {laperm.last_moved}  ({row['seconds']} s)")
    best_step = max(steps_trace, key=lambda s: s[1], default=(0, float("nan")))
    best_epoch = max(epochs_trace, key=lambda r: r["test"])
    return {"net": net, "seed": seed, "k": k, "objective": objective, "adam": adam_kind,
            "steps": steps_trace, "epochs": epochs_trace,
            "best_notebook": best_step[1], "best_notebook_step": best_step[0],
            "best_epoch": best_epoch["test"], "best_epoch_index": best_epoch["epoch"],
            "seconds": round(time.perf_counter() - start_all, 1)}


def run(args, torch_version: str) -> int:
    """``--target C1|C2``: every seed; the report is rewritten after each seed."""
    net = TARGET_NETS[args.target]
    adam_kind = args.adam or "keras"
    # --init_from: loaded and shape-checked by the command's argument check, before the data.
    kernels = getattr(args, "init_kernels", None)
    if args.init_from and kernels is None:
        kernels = init_from_kernels(net, args.init_from)
    source = init_from_name(args.init_from) if args.init_from else None
    sets = mnist_sets(args.data_dir)
    runs = []
    for seed in (int(s) for s in args.seeds.split(",")):
        runs.append(train_seed(sets, net, args.epochs, seed, objective=args.objective,
                               kernels=kernels, adam_kind=adam_kind))
        if args.out:
            report = {"target": args.target, "net": net, "epochs": args.epochs, "batch": BATCH,
                      "k": SYNC_PERIOD, "objective": args.objective, "adam": adam_kind,
                      "init_from": args.init_from, "init_from_run": source,
                      "threads": args.threads,
                      "torch": torch_version, "runs": runs}
            Path(args.out).mkdir(parents=True, exist_ok=True)
            name = ("" if args.objective == "sum" else f"_{args.objective}") + (
                f"_init_from_{source}" if args.init_from else "") + (
                "" if adam_kind == "keras" else f"_{adam_kind}_adam")
            atomic_write_json(Path(args.out) / f"controlled_{args.target}{name}.json", report)
    for key, label in (("best_notebook", "best of the evaluations every 250 steps (notebook)"),
                       ("best_epoch", "best of the per-epoch evaluations (our presets)")):
        values = [r[key] for r in runs]
        print(f"{args.target}: PyTorch LaPerm {net}, {args.epochs} epochs, batch-{args.objective}"
              f" objective, {adam_kind} Adam, {label}: "
              f"{', '.join(f'{v:.2f}' for v in values)} % (mean {np.mean(values):.2f} %)")
    print(f"torch {torch_version}")
    return 0
