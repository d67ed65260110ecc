"""plotting.composition: the final per-layer shares of negative, zero and positive masks and
masked weights, one row per configuration."""

import numpy as np

from plotting.composition import composition_figure, final_composition


def test_final_composition_is_the_mean_share_per_layer_at_the_last_epoch(groups):
    found = [final_composition(group) for group in groups]
    shares, epoch, runs = next(item for item in found if item is not None)
    assert shares.shape == (2, 6) and epoch >= 1 and runs >= 1
    np.testing.assert_allclose(shares[:, :3].sum(axis=1), 100.0)  # masks: every weight once
    np.testing.assert_allclose(shares[:, 3:].sum(axis=1), 100.0)


def test_one_row_per_configuration_with_stacked_bars_to_100(groups):
    rows = [group for group in groups if final_composition(group) is not None]
    fig = composition_figure(groups)
    visible = [subfig for subfig in fig.subfigs if subfig.get_visible()]
    assert len(visible) == len(rows)
    masks = visible[0].axes[0]
    heights = np.zeros(2)
    for patch in masks.patches:
        heights[round(patch.get_x() + patch.get_width() / 2)] += patch.get_height()
    np.testing.assert_allclose(heights, 100.0)
    assert composition_figure([]) is None
