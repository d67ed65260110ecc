"""Per-layer seeds derived from one run seed.

``scheme="independent"`` (default): every masked layer gets its own seed pair,
one for the kernel and one for the score.

``scheme="original"`` reproduces the *structure* of the original's seeding
(not TF1's random numbers themselves): one seed per layer, shared by its kernel
and its score; for ConvN nets the second hidden dense layer and the output
layer share a seed. Sharing an op seed in TF1 graph mode also feeds the kernel
and the score from the same random bits; ``LayerSeeds.shared_stream`` marks that
coupling (experiments/findings/tf1_seed_coupling.md).
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import numpy as np

_HIGH = 2**31 - 1  # seeds are drawn in [1, 2**31 - 1) as in the original
SEEDING_SCHEMES = ("independent", "original")


@dataclasses.dataclass(frozen=True)
class LayerSeeds:
    """A masked layer's seeds; ``shared_stream``: the score draws from the kernel's random
    bits where the original drew both with TF ops (TF1's op-seed coupling)."""

    kernel: int
    score: int
    shared_stream: bool = False


def resolve_run_seed(seed: int) -> int:
    """``0`` means "unseeded" in the original; draw and return a fresh seed then."""
    return seed if seed != 0 else secrets.randbelow(_HIGH - 1) + 1


def layer_seeds(
    run_seed: int, conv_slots: int, conv_positions: list[int], n_dense: int, scheme: str
) -> list[LayerSeeds]:
    """Seeds for the masked layers in forward order (convs first, then dense).

    ``conv_slots`` is the length of the conv architecture list including
    pooling entries, ``conv_positions`` the list positions that are convs and
    ``n_dense`` the number of dense layers including the output layer.
    """
    rng = np.random.RandomState(run_seed)
    n_layers = len(conv_positions) + n_dense
    if scheme == "independent":
        pairs = rng.randint(1, _HIGH, size=(n_layers, 2))
        return [LayerSeeds(int(k), int(s)) for k, s in pairs]
    if scheme not in SEEDING_SCHEMES:
        raise ValueError(f"unknown seeding scheme {scheme!r}; expected one of {SEEDING_SCHEMES}")
    if conv_slots == 0:
        # MLP: one draw per entry of [input, hidden..., output]; output takes the last.
        draws = rng.randint(1, _HIGH, size=n_dense + 1)
        chosen = [draws[j] for j in range(n_dense - 1)] + [draws[-1]]
    else:
        # CNN: hidden dense j takes draws[conv_slots + j + 1], the output draws[-1],
        # so the last hidden dense layer and the output layer coincide.
        draws = rng.randint(1, _HIGH, size=conv_slots + n_dense)
        chosen = [draws[i] for i in conv_positions]
        chosen += [draws[conv_slots + j + 1] for j in range(n_dense - 1)] + [draws[-1]]
    return [LayerSeeds(int(s), int(s), shared_stream=True) for s in chosen]


# The name of a layer's evaluation-sampling generator; checkpoints keep its state apart.
EVAL_SAMPLER = "eval_sampler"


def eval_sampler(sample_seed: int | None) -> Any:
    """A ``keras.random.SeedGenerator`` for sampling at evaluation, a stream apart from the
    training draws of ``sample_seed``: how often a run evaluates then never changes what it
    trains (one shared generator would shift every later training draw)."""
    import keras

    seed = None
    if sample_seed is not None:
        seed = int(np.random.SeedSequence([int(sample_seed), 1]).generate_state(1)[0]) % _HIGH
    return keras.random.SeedGenerator(seed, name=EVAL_SAMPLER)
