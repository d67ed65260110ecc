"""Architectures of the other methods: exact kernel counts, padding, BN, widths."""


import pytest

from masktrainer.config import RunConfig
from masktrainer.methods.edge_popup.layers import EdgePopupLayers
from masktrainer.methods.slot_machines.layers import SlotMachineLayers
from masktrainer.nn.architectures import kernel_fan_ins
from masktrainer.nn.build import build_network, kernel_parameter_count
from masktrainer.nn.layer_factory import DenseReferenceLayers

COUNTS = {  # cross-check target C12 (docs/crosscheck.md)
    "Conv8": 5_275_840,
    "SlotConv2": 3_317_952,
    "SlotConv4": 1_147_072,
    "SlotConv6": 1_474_752,
    "VGG19": 20_024_000,
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts_of_the_new_architectures(name):
    for factory in (DenseReferenceLayers(), SlotMachineLayers(slots=2)):
        model = build_network(name, (32, 32, 3), 10, factory)
        assert kernel_parameter_count(model) == COUNTS[name]
    fans = kernel_fan_ins(name, (32, 32, 3), 10)
    assert fans[-1] == (512 if name == "VGG19" else 256)
    assert fans[0] == 27 and (name != "VGG19" or len(fans) == 17)


def test_slot_convs_use_valid_padding_and_vgg_has_non_affine_bn():
    model = build_network("SlotConv6", (32, 32, 3), 10, DenseReferenceLayers())
    assert model.get_layer("flatten").output.shape[-1] == 1024
    assert [model.get_layer(f"conv_{i}").padding for i in range(1, 7)] == ["valid"] * 4 + ["same"] * 2
    assert model.get_layer("dropout_1").rate == 0.5
    vgg = build_network("VGG19", (32, 32, 3), 10, EdgePopupLayers())
    bn = vgg.get_layer("bn_16")
    assert not bn.center and not bn.scale and bn.epsilon == 1e-5
    assert vgg.get_layer("flatten").output.shape[-1] == 512


def test_wide_architectures_scale_every_width():
    cfg = RunConfig(traintype="EdgePopup", nettype="Conv4Wide", width_mult=2.0)
    from masktrainer.nn.architectures import get_architecture

    arch = get_architecture(cfg.architecture, cfg.width_mult)
    assert arch.conv == (128, 128, "pool", 256, 256, "pool") and arch.dense == (512, 512)
    model = build_network(arch, (32, 32, 3), 10, EdgePopupLayers())
    assert model.get_layer("flatten").output.shape[-1] == 256 * 64


def test_simple_mnist_net_is_hidden_networks_example():
    """2 convs (the second without activation), pool, channel dropout, fc 128, dropout, fc 10."""
    model = build_network("SimpleMNIST", (28, 28, 1), 10, EdgePopupLayers())
    assert model.get_layer("conv_1").get_config()["activation"] == "relu"
    assert model.get_layer("conv_2").get_config()["activation"] == "linear"
    assert model.get_layer("flatten").output.shape[-1] == 9216
    assert model.get_layer("feature_dropout").rate == 0.25
    assert model.get_layer("output_dropout").rate == 0.5
    names = [layer.name for layer in model.layers]
    assert names.index("pool_1") < names.index("feature_dropout") < names.index("flatten")
    assert names.index("dense_1") < names.index("output_dropout") < names.index("output")
    assert kernel_parameter_count(model) == 9 * 32 + 9 * 32 * 64 + 9216 * 128 + 128 * 10
