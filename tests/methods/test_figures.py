"""masktrainer.methods.figures: the shared answers to the plotter's questions about a run."""

from types import SimpleNamespace

from masktrainer.methods.counts import COUNT_FIELDS
from masktrainer.methods.figures import Figures


def _counts(neg: int, zero: int, pos: int) -> list[int]:
    values = dict.fromkeys(COUNT_FIELDS, 0) | {"neg_masks": neg, "zero_masks": zero,
                                               "pos_masks": pos}
    return [values[field] for field in COUNT_FIELDS]


def test_the_defaults_name_no_fields_and_prune_without_flipping():
    figures = Figures()
    assert figures.legend_fields == () and figures.legend_after == "lr"
    assert not figures.weight_profiles and not figures.flips_signs({"masktype": "flip"})


def test_changed_fraction_is_one_when_weights_train_else_the_last_epochs_masks(tmp_path):
    figures = Figures()
    assert figures.changed_fraction(SimpleNamespace(train_weights=True), {}, tmp_path) == 1.0
    masks = SimpleNamespace(train_weights=False)
    metrics = {"layer_sizes": [60, 40],
               "remainingWeightsPerLayer": [[_counts(0, 0, 60), _counts(0, 0, 40)],
                                            [_counts(6, 24, 30), _counts(2, 8, 30)]]}
    assert figures.changed_fraction(masks, metrics, tmp_path) == (6 + 24 + 2 + 8) / 100
    assert figures.changed_fraction(masks, {}, tmp_path) is None  # not recorded
