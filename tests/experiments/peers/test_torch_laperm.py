"""experiments.peers.torch_laperm: the PyTorch LaPerm of C1/C2's controlled comparison."""

import numpy as np
import pytest


def _train_steps(torch, net: str, steps: int, k: int, seed: int = 3):
    from experiments.peers import torch_laperm

    model, laperm, _ = torch_laperm.make(net, seed, k)
    initial = [p.detach().clone() for p in laperm.params]
    for group in laperm.inner.param_groups:  # a step of 1e-3 moves no weight past 0 <-> 0.08
        group["lr"] = 0.05
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.rand(32, 784, generator=gen)
        y = torch.randint(0, 10, (32,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(x), y, reduction="sum")
        loss = loss + 32 * model.penalty() if any(model.l2) else loss
        laperm.inner.zero_grad()
        loss.backward()
        laperm.step()
    return model, laperm, initial


@pytest.mark.parametrize("net", ["F1", "F2"])
def test_a_sync_leaves_every_unit_a_permutation_of_its_agnostic_initial_weights(net):
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_laperm import NETS

    _, value, keeps, _, _ = NETS[net]
    model, laperm, initial = _train_steps(torch, net, steps=7, k=3)
    # Step 7 is not a sync step: the weights have moved off the permutation.
    assert laperm.syncs == 2 and not laperm.intact()
    laperm.sync()
    assert laperm.intact()
    for layer, start, (keep, total) in zip(model.layers, initial, keeps):
        weight = layer.weight.detach()
        assert torch.equal(weight.sort(dim=1).values, start.sort(dim=1).values)
        assert torch.equal((weight != 0).sum(dim=1), (start != 0).sum(dim=1))
        assert torch.all(weight[weight != 0] == value)  # one shared value, exactly
        assert abs(float((start != 0).float().mean()) - keep / total) < 0.05
        assert not torch.equal(weight, start)  # the positions did change


def test_the_sync_puts_initial_values_in_current_rank_order_ties_by_position_and_keeps_adam():
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_laperm import LaPerm

    param = torch.nn.Parameter(torch.tensor([[0.0, 0.0, 1.0, 2.0], [5.0, 6.0, 7.0, 8.0]]))
    inner = torch.optim.Adam([param], lr=0.5)
    laperm = LaPerm([param], inner, k=2)
    with torch.no_grad():
        param.copy_(torch.tensor([[0.3, 0.1, 0.1, 0.1], [4.0, 3.0, 2.0, 1.0]]))
    laperm.sync()
    # Row 0: 0.1 at positions 1, 2, 3 tie -> ascending by position; 0.3 is the largest.
    assert param.tolist() == [[2.0, 0.0, 0.0, 1.0], [8.0, 7.0, 6.0, 5.0]]
    param.grad = torch.ones_like(param)
    laperm.step()
    laperm.step()  # step 2: a sync, after the inner step
    assert laperm.syncs == 2 and laperm.intact()
    assert int(inner.state[param]["step"]) == 2  # the moments and the count are not reset
    assert torch.all(inner.state[param]["exp_avg"] > 0)


def _laperm_md_sync(initial: np.ndarray, current: np.ndarray) -> np.ndarray:
    """LAPERM.md's formula, row by row: new[r, c] = sorted_initial[r, rank of current[r, c]
    within row r], equal values ranked by position (counted, not sorted)."""
    new = np.empty_like(initial)
    for r, (start, now) in enumerate(zip(initial, current)):
        pool = np.sort(start)
        for c, value in enumerate(now):
            rank = int(np.sum(now < value) + np.sum(now[:c] == value))
            new[r, c] = pool[rank]
    return new


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_sync_is_laperm_md_s_formula_on_random_rows_with_ties(seed):
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_laperm import LaPerm

    rng = np.random.default_rng(seed)
    # Few distinct values, so both the initial and the current rows have many ties.
    initial = rng.choice([0.0, 0.03, 0.08, -0.5], size=(6, 11)).astype(np.float32)
    current = rng.integers(0, 4, size=(6, 11)).astype(np.float32) / 4
    param = torch.nn.Parameter(torch.from_numpy(initial.copy()))
    laperm = LaPerm([param], torch.optim.SGD([param], lr=0.1), k=1)
    with torch.no_grad():
        param.copy_(torch.from_numpy(current))
    laperm.sync()
    np.testing.assert_array_equal(param.detach().numpy(), _laperm_md_sync(initial, current))


def test_a_short_run_learns_and_reads_both_accuracies(shared_data_dir):
    pytest.importorskip("torch")
    from experiments.peers import torch_laperm

    sets = torch_laperm.mnist_sets(str(shared_data_dir))
    assert sets["train"][0].shape == (60_000, 784) and sets["test"][0].shape == (10_000, 784)
    assert sets["train"][0].max() == 1.0 and sets["train"][0].dtype == np.float32
    small = {"train": sets["train"], "test": (sets["test"][0][:2000], sets["test"][1][:2000])}
    result = torch_laperm.train_seed(small, "F1", epochs=1, seed=1, echo=lambda _: None)
    # 60,000 images in batches of 128: 469 steps, one sync and one evaluation (step 250).
    assert [step for step, _ in result["steps"]] == [250]
    assert result["epochs"][-1]["steps"] == 469 and result["epochs"][-1]["syncs"] == 1
    assert result["best_notebook"] == result["steps"][0][1]
    assert result["best_epoch"] == max(r["test"] for r in result["epochs"])
    assert result["best_notebook"] > 50.0  # chance is 10 %


def test_a_library_runs_initial_kernels_replace_the_seeds_own(tmp_path):
    torch = pytest.importorskip("torch")
    from experiments.peers import torch_laperm
    from masktrainer import layout

    rng = np.random.default_rng(5)
    kernel = np.where(rng.random((784, 10)) < 0.5, 0.08, 0.0).astype(np.float32)
    np.savez(tmp_path / layout.INITIAL_WEIGHTS_FILE, **{"dense.kernel": kernel})
    kernels = torch_laperm.library_kernels(tmp_path)
    model, laperm, _ = torch_laperm.make("F1", 1, kernels=kernels)
    assert torch.equal(model.layers[0].weight, torch.from_numpy(kernel.T.copy()))
    assert torch.equal(laperm.pool[0], torch.from_numpy(np.sort(kernel.T, axis=1)))
    with pytest.raises(ValueError, match="shapes"):
        torch_laperm.make("F2", 1, kernels=kernels)


def test_laperms_adam_is_the_originals_keras_update_unless_torchs_is_asked_for():
    torch = pytest.importorskip("torch")
    from experiments.peers import torch_laperm
    from experiments.peers.torch_nets import KerasAdam

    _, laperm, _ = torch_laperm.make("F1", 1)
    assert isinstance(laperm.inner, KerasAdam) and laperm.inner.defaults["eps"] == 1e-7
    _, laperm, _ = torch_laperm.make("F1", 1, adam_kind="torch")
    assert type(laperm.inner) is torch.optim.Adam
    with pytest.raises(ValueError, match="adam"):
        torch_laperm.make("F1", 1, adam_kind="sgd")
