"""hidden-networks' ResNets: parameter counts (torchvision's published ones for ImageNet), the
built models, and their BatchNorm per method."""

import numpy as np
import pytest

from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.nn.build import build_architecture, kernel_parameter_count
from masktrainer.nn.layer_factory import DenseReferenceLayers
from masktrainer.nn.resnets import batchnorm_channels, kernel_count

# torchvision.models: resnet18/50/101, wide_resnet50_2/101_2 (conv kernels, BN gamma and
# beta, the fc weights and its bias).
TORCHVISION = {"ResNet18": 11_689_512, "ResNet50": 25_557_032, "ResNet101": 44_549_160,
               "WideResNet50_2": 68_883_240, "WideResNet101_2": 126_886_696}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_imagenet_resnets_have_torchvisions_parameter_counts(name):
    # hidden-networks' nets have no biases: torchvision = kernels + BN gamma/beta + fc bias.
    assert kernel_count(name, 1000) + 2 * batchnorm_channels(name) + 1000 == TORCHVISION[name]


def test_cresnet18_has_the_originals_11164352_prunable_weights_and_builds_them():
    assert kernel_count("cResNet18", 10) == 11_164_352
    model = build_architecture("cResNet18", (32, 32, 3), 10, DenseReferenceLayers(), 1)
    assert kernel_parameter_count(model) == 11_164_352
    assert model.output_shape == (None, 10)
    assert model.get_layer("flatten").output.shape[-1] == 512


def test_a_built_imagenet_resnet_matches_its_spec():
    model = build_architecture("ResNet18", (64, 64, 3), 1000, DenseReferenceLayers(), 1)
    assert kernel_parameter_count(model) == kernel_count("ResNet18", 1000)


@pytest.mark.parametrize("traintype,affine", [("EdgePopup", False), ("SupermaskSampling", False),
                                               ("DenseBaseline", True)])
def test_batchnorm_is_non_affine_for_subnetworks_and_learned_for_the_dense_baseline(traintype,
                                                                                 affine):
    cfg = RunConfig(traintype=traintype, nettype="cResNet18")
    model = methods.build_model(cfg, (32, 32, 3), 10, 1)
    bns = [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    assert len(bns) == 20  # one after every conv: 1 + 16 + 3 shortcuts
    assert all(bn.center == bn.scale == affine for bn in bns)
    assert all(bn.momentum == 0.9 and bn.epsilon == 1e-5 for bn in bns)
    x = np.random.RandomState(0).rand(2, 32, 32, 3).astype(np.float32)
    assert np.isfinite(model.predict(x, verbose=0)).all()


def test_recipes_of_cresnet18():
    edge = RunConfig(traintype="EdgePopup", nettype="cResNet18")
    assert (edge.lr, edge.batchsize, edge.weight_decay, edge.augment) == (0.1, 256, 5e-4,
                                                                          "crop_flip")
    dense = RunConfig(traintype="DenseBaseline", nettype="cResNet18")
    assert (dense.lr, dense.batchsize, dense.weight_decay, dense.train_weights) == (
        0.1, 256, 5e-4, True)
    assert RunConfig(traintype="SupermaskSampling", nettype="cResNet18").lr == 400.0
