"""Initial-weight transforms applied before LaPerm training.

Both functions overwrite ``model.trainable_variables`` in place and return a
stats dict: ``{variable.path: {"nonzero": int, "total": int, ...}, ...,
"kept_fraction": float}``. The zeros they create become part of the initial
weights LaPerm permutes, so each row keeps its number of zeros.

Draws use a local ``numpy.random.RandomState(seed)`` (never numpy's global
generator), one draw per variable in ``model.trainable_variables`` order.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Sequence, Union

import keras
import numpy as np

# A kept fraction: a float in (0, 1] or the original's (keep, total) integers.
KeepFraction = Union[float, tuple[int, int]]


def _values(variable) -> np.ndarray:
    return np.array(variable.numpy())


def _assign(variable, values: np.ndarray) -> None:
    variable.assign(values.astype(keras.backend.standardize_dtype(variable.dtype)))


def random_prune(
    model: keras.Model,
    keep_ratio: float,
    input_keep_ratio: float = 0.8,
    skip_1d: bool = True,
    seed: int | None = None,
) -> dict:
    """Zero each weight independently with probability ``1 - keep``.

    ``keep_ratio`` is the fraction of weights KEPT (the original named it
    ``prune_rate``; ``keep_ratio=0.7`` is the paper's "p = 30 %"). The first
    trainable variable (normally the input layer's kernel) keeps
    ``max(keep_ratio, input_keep_ratio)``. Rank-1 variables (biases, BN
    gamma/beta) are left untouched when ``skip_1d``.

    Returns:
        ``{path: {"nonzero", "nonzero_before", "total", "skipped"}, ...,
        "kept_fraction": nonzero after / nonzero before over all trainable variables}``.

    Raises:
        ValueError: ``keep_ratio`` or ``input_keep_ratio`` outside (0, 1].
    """
    for label, ratio in (("keep_ratio", keep_ratio), ("input_keep_ratio", input_keep_ratio)):
        if not 0.0 < ratio <= 1.0:
            raise ValueError(f"{label} must be in (0, 1], got {ratio}")
    rng = np.random.RandomState(seed)
    stats: dict = {}
    before_total = after_total = 0
    for index, variable in enumerate(model.trainable_variables):
        values = _values(variable)
        nonzero_before = int(np.count_nonzero(values))
        skipped = skip_1d and values.ndim == 1
        if not skipped:
            keep = max(keep_ratio, input_keep_ratio) if index == 0 else keep_ratio
            values = np.where(rng.uniform(size=values.shape) < keep, values, 0.0)
            _assign(variable, values)
        nonzero = int(np.count_nonzero(values))
        stats[variable.path] = {
            "nonzero": nonzero,
            "nonzero_before": nonzero_before,
            "total": int(values.size),
            "skipped": bool(skipped),
        }
        before_total += nonzero_before
        after_total += nonzero
    stats["kept_fraction"] = after_total / before_total if before_total else 1.0
    return stats


def _is_keep_total(rule) -> bool:
    return (
        isinstance(rule, (tuple, list))
        and len(rule) == 2
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in rule)
    )


def _is_single_rule(rule) -> bool:
    return (isinstance(rule, Real) and not isinstance(rule, bool)) or _is_keep_total(rule)


def _keep_mask(rule: KeepFraction, shape: tuple[int, ...], rng: np.random.RandomState):
    """Boolean mask: float f -> U(0,1) < f; (keep, total) -> randint(1, total + 1) <= keep."""
    if _is_keep_total(rule):
        keep, total = (int(v) for v in rule)
        if not 0 < keep <= total:
            raise ValueError(f"(keep, total) needs 0 < keep <= total, got {tuple(rule)}")
        return rng.randint(1, total + 1, size=shape) <= keep
    if isinstance(rule, Real) and not isinstance(rule, bool):
        if not 0.0 < float(rule) <= 1.0:
            raise ValueError(f"a kept fraction must be in (0, 1], got {rule}")
        return rng.uniform(size=shape) < float(rule)
    raise ValueError(f"a kept fraction is a float in (0, 1] or a (keep, total) tuple, got {rule!r}")


def agnosticize(
    model: keras.Model,
    value: float | None,
    keep_fractions: KeepFraction | Sequence[KeepFraction],
    seed: int | None = None,
) -> dict:
    """Make every trainable variable ``value`` where kept and 0 elsewhere.

    ``keep_fractions`` is one rule for all variables or a sequence with one
    rule per trainable variable. A rule is a float in (0, 1] (kept with that
    probability) or, as in the original, a ``(keep, total)`` pair of ints:
    an entry is kept when ``randint(1, total + 1) <= keep`` (probability
    keep/total). A pair of two ints is always read as one ``(keep, total)``
    rule, never as two per-variable rules. ``value=None`` keeps the current
    values at the kept positions (the original's ``val=None``).

    Returns:
        ``{path: {"nonzero", "total"}, ..., "kept_fraction": kept / total overall}``.

    Raises:
        ValueError: a rule is invalid, or the sequence length differs from the
            number of trainable variables.
    """
    variables = model.trainable_variables
    if _is_single_rule(keep_fractions):
        rules = [keep_fractions] * len(variables)
    else:
        rules = list(keep_fractions)
        if len(rules) != len(variables):
            raise ValueError(
                f"keep_fractions has {len(rules)} entries but the model has "
                f"{len(variables)} trainable variables"
            )
    rng = np.random.RandomState(seed)
    # Draw (and validate) every mask before touching any variable.
    masks = [_keep_mask(rule, tuple(v.shape), rng) for v, rule in zip(variables, rules)]
    stats: dict = {}
    kept_total = size_total = 0
    for variable, mask in zip(variables, masks):
        current = _values(variable)
        source = current if value is None else np.full_like(current, value)
        values = np.where(mask, source, 0.0)
        _assign(variable, values)
        stats[variable.path] = {"nonzero": int(np.count_nonzero(values)), "total": int(values.size)}
        kept_total += int(mask.sum())
        size_total += int(values.size)
    stats["kept_fraction"] = kept_total / size_total if size_total else 1.0
    return stats
