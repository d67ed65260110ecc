"""LaPerm (Qiu & Suda 2020, "Train by Reconnect") as a Keras 3 optimizer wrapper.

The inner optimizer updates the weights as usual; after every ``k``-th step
(1-based global step, as the original) each row of every permuted variable is
replaced by its sorted initial values re-indexed by the rank of the current
weights. Between syncs the weights move freely; right after a sync every row
is exactly a permutation of its initial values.

The sorted initial rows are optimizer variables, so ``model.save`` (.keras)
and ``tf.train.Checkpoint`` restore them together with the inner optimizer.
"""

from __future__ import annotations

from typing import Any, Callable

import keras
import tensorflow as tf

from laperm.layout import row_shape
from laperm.names import TIE_BREAKS
from laperm.rows import reconnect, sorted_rows
from laperm.schedules import deserialize_sync_period, serialize_sync_period

_PACKAGE = "laperm"
BN_VARIABLE_NAMES = ("gamma", "beta")  # names Keras' BatchNormalization gives its params


def _short_name(variable) -> str:
    return variable.name.split("/")[-1].split(":")[0]


def default_role(variable) -> str:
    """'bn', 'bias' or 'weight', from the name the *layer class* gave the variable.

    Keras 3 layers name their variables by role (``kernel``, ``bias``,
    ``gamma``, ``beta``) whatever the layer is called; the original matched the
    layer *name* ("batch_normalization" in the path), which broke on renamed
    layers. Use :func:`roles_from_model` to classify by layer type instead.
    """
    name = _short_name(variable)
    if name in BN_VARIABLE_NAMES:
        return "bn"
    if name == "bias":
        return "bias"
    return "weight"


def roles_from_model(model: keras.Model) -> dict[str, str]:
    """Variable path -> role, by layer type (BatchNormalization) and attribute (``.bias``)."""
    roles: dict[str, str] = {}
    for layer in model._flatten_layers(include_self=False):
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        bias = getattr(layer, "bias", None)
        for variable in layer._trainable_variables:
            if is_bn:
                roles[variable.path] = "bn"
            elif bias is not None and variable is bias:
                roles[variable.path] = "bias"
            else:
                roles.setdefault(variable.path, "weight")
    return roles


def _assign(component, value):
    return component.assign(value)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LaPerm(keras.optimizers.Optimizer):
    """Wrap ``inner_optimizer``; every ``sync_period`` steps reconnect the initial weights.

    Args:
        inner_optimizer: any Keras optimizer (Adam in every experiment of the paper).
        sync_period: ``k``: an int, or a schedule called with the 1-based step
            (see :mod:`laperm.schedules`; a callable of the epoch needs
            ``steps_per_epoch``).
        skip_bias: leave biases to the inner optimizer (never permuted).
        tie_break: "position" (default: equal weights are ranked by position, which
            is what the original's ``tf.argsort(stable=False)`` does in practice on
            CPU) or "random" (a random order drawn from ``seed`` and the step, which
            does not hand the larger values to the later positions of a tied row).
        skip_bn: leave BatchNormalization gamma/beta to the inner optimizer.
        roles: optional ``{variable.path: "weight" | "bias" | "bn"}`` (e.g. from
            :func:`roles_from_model`); variables not listed use :func:`default_role`.
    """

    def __init__(
        self,
        inner_optimizer: keras.optimizers.Optimizer,
        sync_period: int | Callable = 250,
        skip_bias: bool = True,
        skip_bn: bool = True,
        tie_break: str = "position",
        seed: int = 0,
        roles: dict[str, str] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise ValueError(
                f"LaPerm does not take {sorted(kwargs)}; set them on the inner optimizer"
            )
        super().__init__(learning_rate=0.0, name=name or "laperm")
        if isinstance(inner_optimizer, (dict, str)):
            inner_optimizer = keras.optimizers.get(inner_optimizer)
        if not isinstance(inner_optimizer, keras.optimizers.Optimizer):
            raise TypeError(f"inner_optimizer must be a Keras optimizer, got {inner_optimizer!r}")
        if isinstance(sync_period, bool) or (
            isinstance(sync_period, int) and sync_period < 1
        ):
            raise ValueError(f"sync_period must be an integer >= 1 or a schedule, got {sync_period!r}")
        if tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
        self.tie_break = tie_break
        self.seed = int(seed)
        self.inner_optimizer = inner_optimizer
        self.sync_period = sync_period
        self.skip_bias = bool(skip_bias)
        self.skip_bn = bool(skip_bn)
        self.roles = dict(roles or {})

    # -- state ------------------------------------------------------------------
    def role(self, variable) -> str:
        return self.roles.get(variable.path, default_role(variable))

    def is_permuted(self, variable) -> bool:
        role = self.role(variable)
        return not ((role == "bias" and self.skip_bias) or (role == "bn" and self.skip_bn))

    def build(self, var_list) -> None:
        if self.built:
            return
        self.inner_optimizer.build(var_list)
        super().build(var_list)
        self._sorted: dict[str, Any] = {}
        self._last_synced: dict[str, Any] = {}
        self._permuted: list[Any] = []
        for variable in var_list:
            if not self.is_permuted(variable):
                continue
            rows = row_shape(variable.shape)  # clear error for unsupported ranks
            # Zeros now, filled from the weights before the first update (see
            # _fill_sorted): creating variables with data-dependent initial
            # values inside a traced XLA step cannot always be lifted.
            self._sorted[self._var_key(variable)] = self.add_variable(
                shape=rows,
                dtype=variable.dtype,
                initializer="zeros",
                name=f"{variable.path.replace('/', '_')}_sorted_initial",
                aggregation="only_first_replica",
            )
            # The weights right after the previous sync (initially: the initial
            # weights), to count the positions a sync actually moves.
            self._last_synced[self._var_key(variable)] = self.add_variable(
                shape=tuple(variable.shape),
                dtype=variable.dtype,
                initializer="zeros",
                name=f"{variable.path.replace('/', '_')}_last_synced",
                aggregation="only_first_replica",
            )
            self._permuted.append(variable)
        self._index = {self._var_key(v): i for i, v in enumerate(self._permuted)}
        counters = {}
        for name in ("initialized", "sync_count", "last_sync_changed"):
            counters[name] = self.add_variable(
                shape=(), dtype="int64", initializer="zeros", name=name,
                aggregation="only_first_replica",
            )
        self.initialized = counters["initialized"]
        self.sync_count = counters["sync_count"]
        self.last_sync_changed = counters["last_sync_changed"]
        if tf.executing_eagerly():
            self._fill_sorted(tf.distribute.get_strategy())

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    def sorted_initial(self, variable) -> tf.Tensor:
        """The sorted initial rows (rows, row length) of a permuted variable."""
        return tf.convert_to_tensor(self._sorted[self._var_key(variable)])

    def _tie_seed(self, index, step) -> tf.Tensor | None:
        if self.tie_break != "random":
            return None
        return tf.stack([tf.constant(self.seed, tf.int64) * 1_000_003 + index,
                         tf.cast(step, tf.int64)])

    def reconnected(self, variable) -> tf.Tensor:
        """What a sync at the current step would assign to ``variable`` (same tie rule)."""
        step = tf.cast(tf.convert_to_tensor(self.iterations), tf.int64)
        return reconnect(tf.convert_to_tensor(variable), self.sorted_initial(variable),
                         self._tie_seed(self._index[self._var_key(variable)], step))

    def current_sync_period(self, step) -> tf.Tensor:
        period = self.sync_period
        value = period(step) if callable(period) else period
        return tf.maximum(tf.cast(value, tf.int64), 1)

    # -- the update ---------------------------------------------------------------
    def apply(self, grads, trainable_variables=None):
        if not self.built:
            with keras.name_scope(self.name, caller=self):
                self.build(trainable_variables)
            self.built = True
        strategy = tf.distribute.get_strategy()
        tf.__internal__.distribute.interim.maybe_merge_call(self._cross_replica_fill, strategy)
        self.inner_optimizer.apply(grads, trainable_variables)
        variables = list(trainable_variables or self._trainable_variables)
        tf.__internal__.distribute.interim.maybe_merge_call(
            self._cross_replica_sync, strategy, variables
        )

    def _fill_sorted(self, distribution) -> None:
        """Record the sorted initial rows (once) and mark the optimizer initialized."""
        for variable in self._permuted:
            key = self._var_key(variable)
            current = tf.convert_to_tensor(variable)
            distribution.extended.update(
                self._sorted[key].value, _assign, args=(sorted_rows(current),), group=False
            )
            distribution.extended.update(
                self._last_synced[key].value, _assign, args=(current,), group=False
            )
        distribution.extended.update(
            self.initialized.value, _assign, args=(tf.constant(1, tf.int64),), group=False
        )

    def _cross_replica_fill(self, distribution) -> None:
        def fill():
            self._fill_sorted(distribution)
            return tf.constant(True)

        initialized = tf.equal(tf.convert_to_tensor(self.initialized), 1)
        tf.cond(initialized, lambda: tf.constant(False), fill)

    def _cross_replica_sync(self, distribution, variables) -> None:
        # Decided here, in cross-replica context: mirrored values are identical.
        step = tf.cast(tf.convert_to_tensor(self.iterations), tf.int64)  # the 1-based step
        should_sync = tf.equal(step % self.current_sync_period(step), 0)

        def sync():
            self._sync(distribution, variables)
            return tf.constant(True)

        tf.cond(should_sync, sync, lambda: tf.constant(False))

    def _sync(self, distribution, variables) -> None:
        assign = _assign
        changed = []
        step = tf.cast(tf.convert_to_tensor(self.iterations), tf.int64)
        for variable in variables:
            key = self._var_key(variable)
            if key not in self._sorted:
                continue
            current = tf.convert_to_tensor(variable)
            new_value = reconnect(current, tf.convert_to_tensor(self._sorted[key]),
                                  self._tie_seed(self._index[key], step))
            previous = tf.convert_to_tensor(self._last_synced[key])
            changed.append(tf.reduce_sum(tf.cast(tf.not_equal(new_value, previous), tf.int64)))
            target = variable.value if isinstance(variable, keras.Variable) else variable
            distribution.extended.update(target, assign, args=(new_value,), group=False)
            distribution.extended.update(
                self._last_synced[key].value, assign, args=(new_value,), group=False
            )
        total = tf.add_n(changed) if changed else tf.constant(0, tf.int64)
        distribution.extended.update(self.last_sync_changed.value, assign, args=(total,),
                                     group=False)
        count = tf.convert_to_tensor(self.sync_count) + 1
        distribution.extended.update(self.sync_count.value, assign, args=(count,), group=False)

    def synchronize(self, variables: list | None = None) -> None:
        """Reconnect now, off the k schedule (e.g. to end on a permutation of the initial
        weights after a run whose last step was not a sync step).

        ``variables`` defaults to every variable the optimizer trains. Call it
        after the first training step, outside ``strategy.run``; wrap it in
        ``tf.function`` to run it as a graph. Before the initial weights are
        recorded it raises (eagerly) or does nothing (in a graph).
        """
        if not self.built or (tf.executing_eagerly() and int(self.initialized.numpy()) == 0):
            raise RuntimeError("LaPerm.synchronize needs the initial weights: train a step first")
        chosen = list(self._trainable_variables if variables is None else variables)
        strategy = self._distribution_strategy  # the strategy the optimizer was built under

        def sync():
            self._sync(strategy, chosen)
            return tf.constant(True)

        with strategy.scope():
            initialized = tf.equal(tf.convert_to_tensor(self.initialized), 1)
            tf.cond(initialized, sync, lambda: tf.constant(False))

    # -- checks and serialization ------------------------------------------------
    def check_permutations(self, variables) -> bool:
        """True if every permuted variable's rows are permutations of their initial rows."""
        for variable in variables:
            key = self._var_key(variable)
            if key in self._sorted:
                current = sorted_rows(tf.convert_to_tensor(variable))
                if not bool(tf.reduce_all(tf.equal(current, self.sorted_initial(variable)))):
                    return False
        return True

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inner_optimizer": keras.saving.serialize_keras_object(self.inner_optimizer),
            "sync_period": serialize_sync_period(self.sync_period),
            "skip_bias": self.skip_bias,
            "skip_bn": self.skip_bn,
            "tie_break": self.tie_break,
            "seed": self.seed,
            "roles": self.roles,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = keras.saving.deserialize_keras_object(
            config.pop("inner_optimizer"), custom_objects=custom_objects
        )
        period = deserialize_sync_period(config.pop("sync_period"))
        return cls(inner, sync_period=period, **config)
