"""laperm.schedules: sync-period schedules by step or by epoch, their checks and saving.

The optimizer following a schedule is tested in test_optimizer.py
(``test_piecewise_schedule_changes_k``)."""

import pytest

from laperm.schedules import (
    EpochSyncPeriod,
    PiecewiseSyncPeriod,
    deserialize_sync_period,
    serialize_sync_period,
)


def test_piecewise_by_step_switches_at_each_boundary():
    period = PiecewiseSyncPeriod([3, 5], [10, 20, 30])
    assert [int(period(step)) for step in range(1, 8)] == [10, 10, 20, 20, 30, 30, 30]


def test_piecewise_by_epoch_counts_zero_based_epochs_of_one_based_steps():
    period = PiecewiseSyncPeriod([1], [2, 7], steps_per_epoch=4)
    assert [int(period(step)) for step in range(1, 10)] == [2] * 4 + [7] * 5


@pytest.mark.parametrize("boundaries,values,steps,message", [
    ([1], [2], None, "len\\(values\\)"),
    ([1], [2, 0], None, ">= 1"),
    ([5, 1], [2, 3, 4], None, "increasing"),
    ([1], [2, 3], 0, "steps_per_epoch"),
])
def test_piecewise_rejects_bad_arguments(boundaries, values, steps, message):
    with pytest.raises(ValueError, match=message):
        PiecewiseSyncPeriod(boundaries, values, steps_per_epoch=steps)


def test_epoch_schedule_calls_the_function_with_the_zero_based_epoch():
    period = EpochSyncPeriod(lambda epoch: epoch * 10 + 1, steps_per_epoch=3)
    assert [int(period(step)) for step in (1, 3, 4, 7)] == [1, 1, 11, 21]
    with pytest.raises(ValueError, match="steps_per_epoch"):
        EpochSyncPeriod(lambda epoch: 1, steps_per_epoch=0)


def test_ints_and_piecewise_schedules_round_trip_and_plain_callables_are_refused():
    assert deserialize_sync_period(serialize_sync_period(20)) == 20
    period = PiecewiseSyncPeriod([2], [5, 9], steps_per_epoch=100)
    restored = deserialize_sync_period(serialize_sync_period(period))
    assert isinstance(restored, PiecewiseSyncPeriod)
    assert restored.get_config() == period.get_config()
    with pytest.raises(ValueError, match="cannot be saved"):
        serialize_sync_period(EpochSyncPeriod(lambda epoch: 1, steps_per_epoch=1))
