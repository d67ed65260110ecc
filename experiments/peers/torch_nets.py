"""PyTorch re-implementations of the originals' layers and nets, for ``benchmark_peers``.

Written from the methods' specifications (not copied from the original repositories):

* edge-popup (allenai/hidden-networks): ``SubnetConv`` — a bias-free conv with a frozen
  weight and a score per weight; the mask keeps the top ``n - int((1 - k) n)`` entries of
  |score| in the layer (a full sort, as the original) and passes the gradient straight
  through to the scores. Conv4 of ``models/frankle.py``: same-padding 3x3 convs, the dense
  part as 1x1 convs on a (N, 8192, 1, 1) view. SGD lr 0.1, momentum 0.9, weight decay 1e-4.
* Slot Machines: K frozen candidate values and K scores per connection; greedy selection
  is the one-hot argmax over K with a straight-through gradient. Conv4 of
  ``shallow_conv_models.py``: valid-padding convs, dropout 0.5 before each hidden dense
  layer. SGD lr 0.1, momentum 0.9.
* self-pruning (the original is TF 1 Keras; this is the same net in PyTorch): a dense
  layer with a frozen kernel and a score per weight, mask 1 where score > 0 with a
  straight-through gradient; LeNet-300-100; Adam (Keras' epsilon 1e-7). Conv2 for the
  controlled comparison of cross-check C10: :class:`MaskedConv2` (``mask`` or ``mask_rs``,
  TF1 truncated-normal He kernels, weights or scores trained).

:func:`train_step` is one training step as the originals' loops run it: forward, loss,
the per-step bookkeeping they do (loss and accuracy read back to Python), backward and
the optimizer update; bfloat16 is ``torch.autocast("cpu", dtype=torch.bfloat16)``.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def accuracy(model: nn.Module, x, y, batch: int = 500) -> float:
    """Top-1 accuracy (%) of ``model`` in eval mode on numpy ``x`` (NCHW or flat) and integer
    labels ``y``, ``batch`` images at a time."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(x), batch):
            logits = model(torch.from_numpy(x[start:start + batch]))
            correct += int((logits.argmax(1).numpy() == y[start:start + batch]).sum())
    return 100.0 * correct / len(x)


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, x, y, order,
                batch: int) -> None:
    """One epoch of cross-entropy minibatches in the order ``order.permutation`` draws
    (numpy ``x``/``y``; the last batch holds the remainder), as the originals' loops do."""
    model.train()
    for index in np.array_split(order.permutation(len(x)), -(-len(x) // batch)):
        loss = F.cross_entropy(model(torch.from_numpy(x[index])), torch.from_numpy(y[index]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


class TopKMask(torch.autograd.Function):
    """1 on the top ``n - int((1 - keep) n)`` entries of ``scores``, 0 elsewhere; identity
    backward (the gradient reaches the scores unchanged)."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor, keep: float) -> torch.Tensor:
        mask = torch.ones_like(scores)
        dropped = int((1 - keep) * scores.numel())
        _, order = scores.flatten().sort()
        mask.view(-1)[order[:dropped]] = 0
        return mask

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad, None


class EdgePopupConv(nn.Conv2d):
    """hidden-networks' ``SubnetConv``: frozen weight, mask from the top-k |score|."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int = 0,
                 keep: float = 0.5) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=padding, bias=False)
        self.keep = keep
        nn.init.kaiming_normal_(self.weight, mode="fan_in", nonlinearity="relu")
        self.weight.requires_grad_(False)
        self.scores = nn.Parameter(torch.empty_like(self.weight))
        nn.init.kaiming_uniform_(self.scores, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = TopKMask.apply(self.scores.abs(), self.keep)
        return F.conv2d(x, self.weight * mask, None, self.stride, self.padding)


class EdgePopupConv4(nn.Module):
    def __init__(self, keep: float = 0.5, classes: int = 10) -> None:
        super().__init__()
        conv = lambda cin, cout: EdgePopupConv(cin, cout, 3, padding=1, keep=keep)  # noqa: E731
        dense = lambda cin, cout: EdgePopupConv(cin, cout, 1, keep=keep)  # noqa: E731
        self.convs = nn.Sequential(conv(3, 64), nn.ReLU(), conv(64, 64), nn.ReLU(),
                                   nn.MaxPool2d(2), conv(64, 128), nn.ReLU(), conv(128, 128),
                                   nn.ReLU(), nn.MaxPool2d(2))
        self.linear = nn.Sequential(dense(8192, 256), nn.ReLU(), dense(256, 256), nn.ReLU(),
                                    dense(256, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.convs(x).reshape(x.shape[0], 8192, 1, 1)
        return self.linear(out).flatten(1)


class GreedySelection(torch.autograd.Function):
    """One-hot of the argmax over the last (K) axis; identity backward, so every candidate's
    score gets ``dL/dW_eff * w_k``."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor) -> torch.Tensor:
        return F.one_hot(scores.argmax(dim=-1), scores.shape[-1]).to(scores.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


class SlotWeights(nn.Module):
    """K frozen Glorot-uniform candidates per connection and K scores U(0, bound)."""

    def __init__(self, shape: tuple[int, ...], fan_in: int, fan_out: int, slots: int) -> None:
        super().__init__()
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        self.weight = nn.Parameter(torch.empty(*shape, slots).uniform_(-bound, bound),
                                   requires_grad=False)
        self.score = nn.Parameter(torch.empty(*shape, slots).uniform_(0, bound))

    def effective(self) -> torch.Tensor:
        return (self.weight * GreedySelection.apply(self.score)).sum(dim=-1)


class SlotConv2d(SlotWeights):
    def __init__(self, cin: int, cout: int, kernel: int, slots: int) -> None:
        super().__init__((cout, cin, kernel, kernel), cin * kernel**2, cout * kernel**2, slots)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective())  # valid padding, stride 1


class SlotLinear(SlotWeights):
    def __init__(self, cin: int, cout: int, slots: int) -> None:
        super().__init__((cout, cin), cin, cout, slots)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.flatten(1), self.effective())


class SlotConv4(nn.Module):
    def __init__(self, slots: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            SlotConv2d(3, 64, 3, slots), nn.ReLU(), SlotConv2d(64, 64, 3, slots), nn.ReLU(),
            nn.MaxPool2d(2), SlotConv2d(64, 128, 3, slots), nn.ReLU(),
            SlotConv2d(128, 128, 3, slots), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), SlotLinear(128 * 5 * 5, 256, slots), nn.ReLU(), nn.Dropout(0.5),
            SlotLinear(256, 256, slots), nn.ReLU(), SlotLinear(256, classes, slots))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class PositiveMask(torch.autograd.Function):
    """self-pruning's ``mask``: 1 where score > 0, else 0; identity backward."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor) -> torch.Tensor:
        return (scores > 0).to(scores.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


class MaskedLinear(nn.Module):
    """Frozen He-normal kernel (in, out) times the straight-through mask of its scores."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.kernel = nn.Parameter(torch.randn(cin, cout) * math.sqrt(2.0 / cin),
                                   requires_grad=False)
        self.score = nn.Parameter(torch.empty(cin, cout).uniform_(0.01, 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ (self.kernel * PositiveMask.apply(self.score))


class MaskedLeNet(nn.Module):
    def __init__(self, inputs: int = 784, classes: int = 10) -> None:
        super().__init__()
        self.layers = nn.Sequential(MaskedLinear(inputs, 300), nn.ReLU(),
                                    MaskedLinear(300, 100), nn.ReLU(),
                                    MaskedLinear(100, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))  # logits: the softmax is in the loss


class RescaledMask(torch.autograd.Function):
    """self-pruning's ``mask_rs``: ``[s > 0] * N / (1 + nnz)`` (N elements of the layer, nnz
    positive scores), recomputed every forward; identity backward (the factor is not in it)."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor) -> torch.Tensor:
        kept = (scores > 0).to(scores.dtype)
        return kept * (scores.numel() / (1.0 + kept.sum()))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


MASKS = {"mask": PositiveMask, "mask_rs": RescaledMask}


class KerasAdam(torch.optim.Optimizer):
    """Adam as TF 1.14's ``tf.keras.optimizers.Adam`` (TF's ``ApplyAdam`` kernel) and Keras 3 apply
    it: ``var -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``, epsilon added to the
    square root of the *uncorrected* second moment. ``torch.optim.Adam`` adds it to the corrected
    one, ``sqrt(v / (1 - b2^t)) + eps``: in TF's terms an epsilon of ``eps * sqrt(1 - b2^t)``,
    32 times smaller at step 1 (3.2 % of it), the two alike only after some thousand steps. It
    matters where gradients are near epsilon: self-pruning's score gradients are the kernel times
    dL/dW_eff, about 1e-2 of the kernel gradients in Conv2's 16384x256 layer."""

    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-7) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["m"], state["v"] = torch.zeros_like(param), torch.zeros_like(param)
                state["step"] += 1
                t, m, v = state["step"], state["m"], state["v"]
                m.add_((param.grad - m) * (1 - beta1))
                v.add_((param.grad * param.grad - v) * (1 - beta2))
                alpha = group["lr"] * math.sqrt(1 - beta2**t) / (1 - beta1**t)
                param.sub_(alpha * m / (v.sqrt() + group["eps"]))
        return None


def tf1_he_normal_(tensor: torch.Tensor, fan_in: int) -> torch.Tensor:
    """TF1 ``he_normal``: N(0, s^2) truncated at +-2s, s = sqrt(2 / fan_in) / 0.8796...
    (the truncation's std correction, so the realised std is about sqrt(2 / fan_in))."""
    std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
    return nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std)


class MaskedWeight(nn.Module):
    """A bias-free kernel (He, truncated) and a score per weight U(0.01, 0.1); the effective
    weight is kernel * M(score). ``train_weights``: the kernel trains and the scores stay
    frozen (Baseline: all scores positive, so ``mask`` is all ones); else the reverse."""

    def __init__(self, shape: tuple[int, ...], fan_in: int, masktype: str,
                 train_weights: bool) -> None:
        super().__init__()
        self.mask_fn = MASKS[masktype]
        self.kernel = nn.Parameter(tf1_he_normal_(torch.empty(shape), fan_in),
                                   requires_grad=train_weights)
        self.score = nn.Parameter(torch.empty(shape).uniform_(0.01, 0.1),
                                  requires_grad=not train_weights)

    def effective(self) -> torch.Tensor:
        return self.kernel * self.mask_fn.apply(self.score)


class MaskedConv2(nn.Module):
    """self-pruning's Conv2: two same-padded 3x3x64 convs, 2x2 max-pool, dense 256, 256 and
    the classes, ReLU inside, no bias; the flatten in Keras' NHWC order. Logits out."""

    def __init__(self, masktype: str, train_weights: bool, input_hw: tuple[int, int] = (32, 32),
                 channels: int = 3, classes: int = 10) -> None:
        super().__init__()
        flat = (input_hw[0] // 2) * (input_hw[1] // 2) * 64

        def weight(shape: tuple[int, ...], fan_in: int) -> MaskedWeight:
            return MaskedWeight(shape, fan_in, masktype, train_weights)

        self.convs = nn.ModuleList([weight((64, channels, 3, 3), 9 * channels),
                                    weight((64, 64, 3, 3), 9 * 64)])
        self.dense = nn.ModuleList([weight((flat, 256), flat), weight((256, 256), 256),
                                    weight((256, classes), 256)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = F.relu(F.conv2d(x, conv.effective(), padding=1))
        x = F.max_pool2d(x, 2).permute(0, 2, 3, 1).flatten(1)  # NHWC order, as Keras
        for i, layer in enumerate(self.dense):
            x = x @ layer.effective()
            x = F.relu(x) if i < len(self.dense) - 1 else x  # softmax: in the loss
        return x

    def pruned_fraction(self) -> float:
        """Masks at zero (score <= 0) over all masked layers."""
        layers = [*self.convs, *self.dense]
        pruned = sum(int((layer.score <= 0).sum()) for layer in layers)
        return pruned / sum(layer.score.numel() for layer in layers)


def build(key: str, seed: int = 1) -> tuple[nn.Module, torch.optim.Optimizer, tuple[int, ...]]:
    """The net of ``key`` (see :data:`experiments.peers.PEERS`), its original's optimizer and
    the top-k accuracies its training loop reads back every step."""
    torch.manual_seed(seed)
    if key == "edge_popup":
        model = EdgePopupConv4(keep=0.5)
        trained = [p for p in model.parameters() if p.requires_grad]
        return model, torch.optim.SGD(trained, lr=0.1, momentum=0.9, weight_decay=1e-4), (1, 5)
    if key == "slots_k8":
        model = SlotConv4(slots=8)
        return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), (1,)
    if key == "lenet":
        model = MaskedLeNet()
        trained = [p for p in model.parameters() if p.requires_grad]
        return model, torch.optim.Adam(trained, lr=1e-3, eps=1e-7), (1,)
    raise ValueError(f"no PyTorch net {key!r}")


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
               labels: torch.Tensor, topk: tuple[int, ...],
               bfloat16: bool) -> tuple[float, list[int]]:
    """One step; returns what the originals read back for their running averages: the
    loss and the count of correct top-k predictions for each k of ``topk``."""
    model.train()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
        logits = model(x)
        loss = F.cross_entropy(logits, labels)
    best = logits.topk(max(topk), dim=1).indices
    hits = [int((best[:, :k] == labels[:, None]).any(dim=1).sum().item()) for k in topk]
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item(), hits


def step_timer(key: str, x_channels_last, labels, bfloat16: bool,
               seed: int = 1) -> Callable[[int], float]:
    """``timer(steps)``: seconds per step of ``steps`` training steps of ``key`` on one batch
    (numpy NHWC images, integer labels), after building the net and optimizer once."""
    model, optimizer, topk = build(key, seed)
    x = torch.from_numpy(x_channels_last).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(labels).long()

    def timer(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            train_step(model, optimizer, x, y, topk, bfloat16)
        return (time.perf_counter() - start) / steps

    return timer
