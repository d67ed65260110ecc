"""experiments.peers.torch_nets: the PyTorch peers' layers (top-k, slot selection, masked LeNet)."""

import pytest


def test_edge_popup_keeps_exactly_top_k_and_passes_gradient_straight_through():
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_nets import EdgePopupConv, TopKMask

    scores = torch.randn(7, 5, 3, 3, requires_grad=True)
    mask = TopKMask.apply(scores.abs(), 0.3)
    n = scores.numel()
    assert int(mask.sum()) == n - int(0.7 * n)
    assert torch.all(scores.abs()[mask == 1].min() >= scores.abs()[mask == 0].max())
    upstream = torch.randn_like(mask)
    (mask * upstream).sum().backward()
    assert torch.equal(scores.grad, upstream * torch.sign(scores.detach()))  # through |.| only

    layer = EdgePopupConv(5, 7, 3, padding=1, keep=0.3)
    layer(torch.randn(2, 5, 6, 6)).sum().backward()
    assert layer.weight.grad is None  # frozen
    dropped = TopKMask.apply(layer.scores.detach().abs(), 0.3) == 0
    assert torch.count_nonzero(layer.scores.grad[dropped]) > 0  # dropped entries learn too


def test_slot_machine_selects_one_of_k_values_per_connection():
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_nets import GreedySelection, SlotLinear

    layer = SlotLinear(6, 4, slots=8)
    chosen = layer.score.detach().argmax(dim=-1)
    onehot = GreedySelection.apply(layer.score)
    assert torch.equal(onehot.sum(dim=-1), torch.ones(4, 6))
    expected = torch.gather(layer.weight, -1, chosen[..., None])[..., 0]
    assert torch.equal(layer.effective(), expected)
    x = torch.randn(3, 6)
    layer(x).sum().backward()
    grad_w_eff = torch.ones(3, 4).T @ x  # dL/dW_eff of a summed linear output
    assert torch.allclose(layer.score.grad, grad_w_eff[..., None] * layer.weight)


def test_masked_lenet_masks_non_positive_scores():
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_nets import MaskedLeNet

    net = MaskedLeNet()
    first = net.layers[0]
    with torch.no_grad():
        first.score[:100] = -first.score[:100]  # prune 100 inputs' connections
        first.score[100, :7] = 0.0  # zero prunes too
    x = torch.randn(2, 1, 28, 28)
    kept = (first.score > 0).float()
    assert int(kept.sum()) == 784 * 300 - 100 * 300 - 7
    hidden = torch.relu(x.flatten(1) @ (first.kernel * kept))
    assert torch.allclose(hidden, net.layers[:2](x.flatten(1)))
    net(x).sum().backward()
    assert torch.count_nonzero(first.score.grad[:100]) > 0  # straight through the mask


def test_rescaled_mask_scales_kept_entries_and_passes_gradient_straight_through():
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_nets import RescaledMask

    scores = torch.tensor([[0.5, -0.1, 0.0], [0.2, 0.3, -2.0]], requires_grad=True)
    mask = RescaledMask.apply(scores)
    kept = torch.tensor([[1.0, 0, 0], [1, 1, 0]])
    assert torch.allclose(mask, kept * 6 / (1 + 3))  # N = 6 elements, 3 positive
    upstream = torch.randn(2, 3)
    (mask * upstream).sum().backward()
    assert torch.equal(scores.grad, upstream)  # the factor is not in the gradient


def test_tf1_he_normal_is_truncated_at_two_sigma_with_he_std():
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_nets import tf1_he_normal_

    torch.manual_seed(0)
    kernel = tf1_he_normal_(torch.empty(200, 500), fan_in=200)
    sigma = (2.0 / 200) ** 0.5 / 0.87962566103423978
    assert float(kernel.abs().max()) <= 2 * sigma
    assert abs(float(kernel.std()) / (2.0 / 200) ** 0.5 - 1) < 0.02


@pytest.mark.parametrize("masktype,train_weights", [("mask_rs", False), ("mask", True)])
def test_masked_conv2_trains_scores_or_weights_only(masktype, train_weights):
    torch = pytest.importorskip("torch")
    from experiments.peers.torch_nets import MaskedConv2

    torch.manual_seed(0)
    net = MaskedConv2(masktype, train_weights, input_hw=(8, 8))
    layers = [*net.convs, *net.dense]
    assert [tuple(layer.kernel.shape) for layer in layers] == [
        (64, 3, 3, 3), (64, 64, 3, 3), (4 * 4 * 64, 256), (256, 256), (256, 10)]
    assert all(float(layer.score.detach().min()) >= 0.01 for layer in layers)  # nothing pruned yet
    logits = net(torch.randn(2, 3, 8, 8))
    assert logits.shape == (2, 10)
    logits.sum().backward()
    for layer in layers:
        trained, frozen = (layer.kernel, layer.score) if train_weights else (
            layer.score, layer.kernel)
        assert frozen.grad is None and torch.count_nonzero(trained.grad) > 0


def test_masked_conv2_baseline_is_a_plain_bias_free_net_flattened_as_keras():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from experiments.peers.torch_nets import MaskedConv2

    net = MaskedConv2("mask", True, input_hw=(6, 4))
    x = torch.randn(3, 3, 6, 4)
    c1, c2, d1, d2, d3 = (layer.kernel for layer in [*net.convs, *net.dense])
    h = F.relu(F.conv2d(F.relu(F.conv2d(x, c1, padding=1)), c2, padding=1))
    h = F.max_pool2d(h, 2).permute(0, 2, 3, 1).reshape(3, -1)  # (row, column, channel)
    expected = F.relu(F.relu(h @ d1) @ d2) @ d3
    assert torch.allclose(net(x), expected, atol=1e-5)
    with torch.no_grad():
        net.dense[2].score[:64] = -1.0  # prune 64 of the output layer's 2,560 connections
    total = sum(layer.score.numel() for layer in [*net.convs, *net.dense])
    assert net.pruned_fraction() == 64 * 10 / total


def test_keras_adam_is_the_originals_update_not_torchs():
    """KerasAdam follows keras.optimizers.Adam step for step (epsilon on the uncorrected root);
    with gradients near epsilon torch.optim.Adam does not (epsilon after the correction)."""
    torch = pytest.importorskip("torch")
    import keras
    import numpy as np

    from experiments.peers.torch_nets import KerasAdam

    rng = np.random.RandomState(0)
    start = rng.uniform(0.01, 0.1, 64).astype(np.float32)
    grads = [(rng.randn(64) * np.logspace(-8, -2, 64)).astype(np.float32) for _ in range(5)]
    reference = keras.Variable(start)
    keras_adam = keras.optimizers.Adam(learning_rate=3e-3)  # epsilon 1e-7, as the original's
    ours, theirs = (torch.nn.Parameter(torch.from_numpy(start.copy())) for _ in range(2))
    optimizers = (KerasAdam([ours], lr=3e-3), torch.optim.Adam([theirs], lr=3e-3, eps=1e-7))
    for grad in grads:
        keras_adam.apply_gradients([(keras.ops.convert_to_tensor(grad), reference)])
        for param, optimizer in zip((ours, theirs), optimizers):
            param.grad = torch.from_numpy(grad.copy())
            optimizer.step()
    expected = keras.ops.convert_to_numpy(reference)
    np.testing.assert_allclose(ours.detach().numpy(), expected, rtol=0, atol=1e-6)
    moved = np.abs(expected - start)
    assert np.abs(theirs.detach().numpy() - expected).max() > 0.3 * moved.max()
