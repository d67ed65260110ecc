"""plotting.headtohead: accuracy against the fraction of connections changed, one point per
method with its seeds' spread."""

import numpy as np

from plotting.headtohead import MethodPoint, accuracy_vs_changed_figure


def test_one_point_per_method_at_its_means_with_the_spread_as_error_bars():
    points = [MethodPoint("edge-popup", [90.0, 92.0, 94.0], [0.5, 0.7]),
              MethodPoint("not run", [], []),
              MethodPoint("LaPerm", [80.0], [])]
    fig = accuracy_vs_changed_figure(points, "LeNet")
    ax = fig.axes[0]
    assert fig._suptitle.get_text() == "LeNet"
    centres = [line.get_xydata()[0].tolist() for line in ax.lines if line.get_marker() == "o"]
    assert centres[0] == [60.0, 92.0]
    assert len(centres) == 2 and np.isnan(centres[1][0]) and centres[1][1] == 80.0
    legend = fig.legends[0] if fig.legends else ax.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["edge-popup (92.00 %)",
                                                                "LaPerm (80.00 %)"]
