"""plotting.style: colours, legend layout, the shared-configuration subtitle and the mark of a
missing quantity."""

from plotting.style import (
    colors,
    context_text,
    legend_columns,
    new_figure,
    note_missing,
    outside_legend,
    wrap_label,
)


def test_colours_are_distinct_for_any_number_of_groups():
    for n in (3, 10, 15, 25):
        palette = colors(n)
        assert len(palette) == n and len(set(palette)) == n


def test_legend_columns_and_wrapped_labels_fit_the_width():
    assert legend_columns(["x" * 20] * 4, 6.0) == 3  # 72 characters, 24 per column
    assert legend_columns(["x" * 200], 6.0) == 1 and legend_columns([], 6.0) == 1
    wrapped = wrap_label("word " * 30, 3.0)
    assert max(len(line) for line in wrapped.splitlines()) <= 30


def test_the_subtitle_names_the_shared_settings_and_counts_runs(groups):
    text = context_text(groups)
    assert text.startswith("LeNet · mnist · relu")
    assert f"{len(groups)} configurations" in text and "incomplete" in text


def test_a_missing_quantity_is_marked_and_an_empty_legend_is_none():
    fig = new_figure(4.0, 3.0)
    ax = fig.add_subplot()
    note_missing(ax, "not recorded")
    assert [text.get_text() for text in ax.texts] == ["not recorded"]
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    assert outside_legend(fig, [], []) is None
