"""A method's parts: each registered method has every part, and the plotter's questions
(``figures_of``) answer for runs of any version, including an unknown train type."""

import pytest

from masktrainer import methods
from masktrainer.methods import figures_of
from masktrainer.methods.compat import Compat
from masktrainer.methods.figures import Figures
from masktrainer.methods.recipe import Recipe
from masktrainer.methods.runtime import Runtime


@pytest.mark.parametrize("method", methods.METHODS, ids=lambda m: m.key)
def test_every_method_has_its_parts(method):
    assert isinstance(method.recipe, Recipe) and isinstance(method.runtime, Runtime)
    assert isinstance(method.compat, Compat) and isinstance(method.figures, Figures)
    assert method.name in (*method.train_types, method.key.replace("_", "-"))
    shared = {"traintype", "nettype", "dataset", "initializer", "activation", "p1", "lr"}
    assert set(method.figures.legend_fields).isdisjoint(shared)
    assert method.figures.legend_after in shared


def test_figures_of_a_run_of_any_version():
    assert figures_of({"traintype": "FreeFlipping", "masktype": "flip"}).flips_signs(
        {"traintype": "FreeFlipping", "masktype": "flip"})
    assert not figures_of({"traintype": "FreePruning", "masktype": "mask"}).flips_signs(
        {"masktype": "mask"})
    assert figures_of({"traintype": "LaPerm"}).weight_profiles
    for config in ({"traintype": "NoSuchMethod"}, {}, {"traintype": None}):
        assert figures_of(config) == Figures()
