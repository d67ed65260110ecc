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
