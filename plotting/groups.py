"""Grouping runs by configuration and aggregating them over seeds."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from masktrainer import methods
from masktrainer.layout import BOOKKEEPING_KEYS as RUN_BOOKKEEPING
from masktrainer.layout import SETTING_KEYS
from plotting.runs import Run, warn

#: Config keys that say how, when or where a run was made, not what it trained (the
#: trainer's own entries and the run settings; one list, in masktrainer.run.rundir):
#: runs that differ only in these (and the seed) are seeds of one configuration.
BOOKKEEPING_KEYS = frozenset(RUN_BOOKKEEPING) | frozenset(SETTING_KEYS)
#: Config keys that never define a configuration; the seed varies inside a group.
IGNORED_CONFIG_KEYS = BOOKKEEPING_KEYS | {"seed"}
#: The field naming the method: other fields that differ only between methods
#: are part of each method's recipe and stay out of labels.
METHOD_FIELD = "traintype"
#: Only runs with the same values of these fields share axes.
COMPARABLE_FIELDS = ("dataset", "nettype")
#: Shared fields in their display order; each method's legend fields follow the one its
#: figures name (``Figures.legend_after``).
SHARED_FIELD_ORDER = (
    "traintype",
    "nettype",
    "dataset",
    "initializer",
    "activation",
    "p1",
    "lr",
    "k",
    "batchsize",
    "maxepochs",
)
#: Fields always named in a legend label (when present): the method, its initializer and
#: learning rate, and every method's main hyperparameters (``Figures.legend_fields``).
#: Other fields are named when they tell groups apart (see :func:`distinguishing_fields`).
LABEL_FIELDS = ("traintype", "initializer", "lr", "k") + tuple(
    name for method in methods.METHODS for name in method.figures.legend_fields)
#: Preferred order for further fields that distinguish groups.
FIELD_ORDER = tuple(
    name
    for shared in SHARED_FIELD_ORDER
    for name in (shared, *(field for method in methods.METHODS
                           if method.figures.legend_after == shared
                           for field in method.figures.legend_fields))
)
#: How some fields are shown in labels; others appear as "key value".
FIELD_PREFIX = {
    "traintype": "",
    "nettype": "",
    "dataset": "",
    "initializer": "",
    "activation": "",
    "masktype": "",
    "batchsize": "batch ",
}

ConfigKey = tuple[tuple[str, Any], ...]
_MISSING = object()


@dataclass(frozen=True)
class Band:
    """Per-epoch mean and min-max band over the runs of a group.

    ``count[e]`` is the number of runs that contributed to epoch ``e``. The
    trailing dimensions of ``mean`` (e.g. layers) follow those of the inputs.
    """

    epochs: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray


@dataclass
class RunGroup:
    """Runs sharing a configuration (all fields except seed and bookkeeping)."""

    key: ConfigKey
    runs: list[Run]
    name: str = ""
    color: Any = None

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.key)

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def label(self) -> str:
        """Legend label: the configuration and the number of seeds."""
        return f"{self.name} ({seeds_text(self.n)})"

    @property
    def n_points(self) -> int:
        return max(run.n_points for run in self.runs)

    def band(self, quantity: Callable[[Run], np.ndarray | None]) -> Band | None:
        """Aggregate ``quantity(run)`` over the runs that have it."""
        return aggregate([quantity(run) for run in self.runs])

    def final(
        self, quantity: Callable[[Run], np.ndarray | None]
    ) -> tuple[np.ndarray, int] | None:
        """Values of ``quantity`` at the group's last epoch, one row per run.

        Only runs that reached that epoch contribute; returns the stacked
        values and the epoch, or ``None`` if no run has the quantity.
        """
        values = [quantity(run) for run in self.runs]
        values = [value for value in values if value is not None and len(value)]
        if not values:
            return None
        last = max(len(value) for value in values)
        return np.stack([v[last - 1] for v in values if len(v) == last]), last - 1


def seeds_text(n: int) -> str:
    return f"n={n} seed" if n == 1 else f"n={n} seeds"


def config_key(config: dict[str, Any]) -> ConfigKey:
    """The grouping key of a config: every field but seeds and bookkeeping."""
    return tuple(
        (key, value)
        for key, value in sorted(config.items())
        # Unset (None) fields say nothing about a run: e.g. the slot fields of a LaPerm run.
        if key not in IGNORED_CONFIG_KEYS and value is not None
        and not isinstance(value, (dict, list))
    )


def group_fields(runs: Iterable[Run]) -> list[str]:
    """Config fields usable for grouping and comparison, in display order."""
    return order_fields({key for run in runs for key, _ in config_key(run.config)})


def order_fields(fields: Iterable[str]) -> list[str]:
    rank = {name: index for index, name in enumerate(FIELD_ORDER)}
    return sorted(fields, key=lambda name: (rank.get(name, len(rank)), name))


def format_field(key: str, value: Any, named: bool = False) -> str:
    """Human-readable fragment for labels and titles, e.g. "he" or "lr 0.001".

    Well-known categorical fields are shown by value alone unless ``named``.
    """
    if value is None:
        return f"{key} unset"
    if isinstance(value, float):
        value = f"{value:g}"
    prefix = f"{key} " if named else FIELD_PREFIX.get(key, f"{key} ")
    return f"{prefix}{value}"


def sort_value(value: Any) -> tuple[int, Any]:
    """Sort key putting numbers first (numerically), then everything else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def varying_fields(groups: Sequence[RunGroup]) -> list[str]:
    """Fields whose value (or presence) differs between groups."""
    fields = {key for group in groups for key, _ in group.key}
    configs = [group.config for group in groups]
    varying = {
        key
        for key in fields
        if len({repr(config.get(key, _MISSING)) for config in configs}) > 1
    }
    return order_fields(varying)


def distinguishing_fields(groups: Sequence[RunGroup]) -> set[str]:
    """Fields that tell the groups apart, without those that follow from the method.

    The method itself and the :data:`COMPARABLE_FIELDS` when they differ, and
    any other field that differs between groups of one method; a field that
    differs only between methods (each method's own optimizer or batch size)
    is part of the methods' recipes. Groups of different methods differ in the
    method, groups of one method in a field of this set.
    """
    varying = set(varying_fields(groups))
    by_method: dict[str, list[RunGroup]] = {}
    for group in groups:
        by_method.setdefault(repr(group.config.get(METHOD_FIELD)), []).append(group)
    within = {name for members in by_method.values() for name in varying_fields(members)}
    return (varying & {METHOD_FIELD, *COMPARABLE_FIELDS}) | within


def naming_fields(groups: Sequence[RunGroup]) -> list[str]:
    """Fields that group names show, in display order: the :data:`LABEL_FIELDS`
    the groups have and the :func:`distinguishing_fields`."""
    present = {name for name in LABEL_FIELDS if any(name in g.config for g in groups)}
    return order_fields(present | distinguishing_fields(groups))


def group_runs(runs: Iterable[Run]) -> list[RunGroup]:
    """Group runs by configuration, name and order the groups (runs by seed).

    Warns about complete runs that have fewer epochs than others in their
    group (incomplete runs were already reported when loaded).
    """
    by_key: dict[ConfigKey, list[Run]] = {}
    for run in runs:
        by_key.setdefault(config_key(run.config), []).append(run)
    groups = [
        RunGroup(key, sorted(members, key=Run.seed_order))
        for key, members in by_key.items()
    ]
    shown = naming_fields(groups)
    groups.sort(key=lambda g: [sort_value(g.config.get(name)) for name in shown])
    for group in groups:
        config = group.config
        parts = [format_field(name, config[name]) for name in shown if name in config]
        group.name = " · ".join(parts) or "all runs"
        _warn_short_runs(group)
        _warn_repeated_seeds(group)
    return groups


def _warn_repeated_seeds(group: RunGroup) -> None:
    """Two runs of one configuration with one seed are the same run trained twice: each
    still counts in the mean, so say so rather than let them pass as two seeds."""
    first: dict[str, Run] = {}
    for run in group.runs:
        key = repr(run.seed)
        if run.seed is None:
            continue
        if key in first:
            warn(f"{run.path} repeats {first[key].path} (same configuration, seed "
                 f"{run.seed}); both are counted as seeds")
        else:
            first[key] = run


def _warn_short_runs(group: RunGroup) -> None:
    longest = group.n_points
    for run in group.runs:
        if run.complete and run.n_points < longest:
            warn(
                f"{run.metrics_path}: only {run.epochs} of {longest - 1} epochs;"
                " plotting the epochs it has"
            )


def aggregate(values: Sequence[np.ndarray | None]) -> Band | None:
    """Mean, min and max per epoch over runs; shorter runs drop out at their end. None when
    no run has a value (e.g. a set none of them evaluated)."""
    arrays = [np.asarray(v, float) for v in values if v is not None and len(v)]
    if not arrays:
        return None
    shapes = [array.shape[1:] for array in arrays]
    common = max(set(shapes), key=shapes.count)
    arrays = [array for array in arrays if array.shape[1:] == common]
    length = max(len(array) for array in arrays)
    stack = np.full((len(arrays), length) + common, np.nan)
    for index, array in enumerate(arrays):
        stack[index, : len(array)] = array
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN epochs
        mean = np.nanmean(stack, axis=0)
        low = np.nanmin(stack, axis=0)
        high = np.nanmax(stack, axis=0)
    count = np.sum(~np.isnan(stack), axis=0)
    if not np.any(count):  # recorded as null throughout (a set the runs did not evaluate)
        return None
    return Band(np.arange(length), mean, low, high, count)
