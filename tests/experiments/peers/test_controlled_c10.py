"""experiments.peers.controlled_c10: C10's variants, its data (our preset's split), its run."""

import numpy as np
import pytest

from experiments.peers import controlled_c10
from masktrainer.data.sources import load_from_files


def test_c10_variants_default_to_both_runs_of_the_target():
    assert controlled_c10.chosen_variants(None) == ["FreePruning", "Baseline"]
    assert controlled_c10.chosen_variants("Baseline") == ["Baseline"]
    assert controlled_c10.unknown_variants("Baseline,FreePruning") == []


def test_the_c10_sets_are_our_presets_split(shared_data_dir):
    sets = controlled_c10.cifar_sets(str(shared_data_dir / "cifar10"))
    assert {k: v[0].shape for k, v in sets.items()} == {
        "train": (45_000, 3, 32, 32), "val": (5_000, 3, 32, 32), "test": (10_000, 3, 32, 32)}
    raw = load_from_files("cifar10", str(shared_data_dir / "cifar10"))
    assert np.array_equal(sets["val"][1], raw.y_train[:5000])  # the first 5,000 held out
    assert np.array_equal(sets["test"][1], raw.y_test)
    x = sets["train"][0]
    assert np.abs(x.mean(axis=0)).max() < 1e-4 and abs(float(x.std()) - 1) < 1e-3


@pytest.mark.parametrize("variant", ["FreePruning", "Baseline"])
def test_a_short_c10_run_learns_and_reads_the_last_and_best_validation_epochs(variant):
    pytest.importorskip("torch")
    rng = np.random.RandomState(0)

    def separable(n):  # the class sets the first channel's level: easy to learn
        y = rng.randint(0, 10, n).astype(np.int64)
        x = rng.normal(size=(n, 3, 8, 8)).astype(np.float32) * 0.3
        x[:, 0] += (y[:, None, None] - 4.5) / 3
        return x, y

    sets = {"train": separable(500), "val": separable(200), "test": separable(200)}
    result = controlled_c10.train_variant(sets, variant, epochs=2, seed=1, echo=lambda _: None)
    best = max(result["epochs"], key=lambda r: r["val"])
    assert result["test_at_best_val"] == best["test"] and result["best_val_epoch"] == best["epoch"]
    assert result["test_last"] == result["epochs"][-1]["test"]  # what C10 reads
    assert result["adam"] == "keras"  # the original's Adam update unless asked otherwise
    assert result["epochs"][-1]["val"] > 30.0  # chance is 10 %
    assert (result["pruned"] == 0.0) == (variant == "Baseline")  # frozen scores stay positive


def test_c10_adam_is_the_originals_unless_torchs_is_asked_for():
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_nets import KerasAdam

    params = [torch.nn.Parameter(torch.zeros(3))]
    assert isinstance(controlled_c10.adam(params, 1e-3), KerasAdam)
    theirs = controlled_c10.adam(params, 1e-3, "torch")
    assert type(theirs) is torch.optim.Adam and theirs.defaults["eps"] == 1e-7
    with pytest.raises(ValueError, match="adam must be one of"):
        controlled_c10.adam(params, 1e-3, "adamw")
