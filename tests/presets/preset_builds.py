"""The presets' data pipelines and models, built in a process of their own.

TensorFlow's allocator keeps what a freed model held for the rest of the process and reuses it,
never returning it (an ImageNet WideResNet-50-2 built once leaves 1.2 GB). Built in the test
process, the presets' ImageNet, VGG and CIFAR-10 builds set the whole suite's peak memory and
every later test ran on top of it; here their memory goes when this process ends.

``python preset_builds.py`` reads one JSON request on stdin::

    {"checks": [[kind, name], ...], "data_dir": ..., "imagenet_dir": ..., "tfds_dir": ...,
     "tmp": ...}

(kind: ``small``, ``imagenet`` or ``finetune``) and prints one JSON line per check: the
preset's name, ``"ok": true`` and what the tests assert on, or ``"ok": false`` and the error.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import traceback
from pathlib import Path

import numpy as np

from masktrainer import methods
from masktrainer.cli import parse_command, parse_commands
from masktrainer.config import OPTIONS
from masktrainer.data.preprocessing import Splits
from masktrainer.nn.architectures import IMAGENET_ARCHITECTURES
from masktrainer.run import loading
from masktrainer.run.trainer import Trainer

# Built once per (train type, architecture): the big ones take tens of seconds each on CPU.
HEAVY = ("VGG19", *IMAGENET_ARCHITECTURES)
# What load_data and the training batches depend on (--augment is a layer of the model).
DATA_FIELDS = tuple(o.name for o in OPTIONS.values()
                    if o.group == "data" and o.name not in ("augment", "eval_batchsize"))

_RAW: dict = {}
_BUILT: set = set()
_DATA: dict = {}


def _argv(name, **extra):
    return ["masktrainer", "--preset", name, *(f"--{k}={v}" for k, v in extra.items())]


def _load_raw_once(real):
    def load(dataset, *args):
        if (dataset, *args) not in _RAW:
            _RAW[(dataset, *args)] = real(dataset, *args)
        return _RAW[(dataset, *args)]

    return load


def _tiny(splits: Splits, size: int = 32) -> Splits:
    """Copies of the first images of each split (a slice would keep the whole split alive)."""
    return Splits(*(np.array(getattr(splits, name)[:count]) for name, count in (
        ("x_train", 2 * size), ("y_train", 2 * size), ("x_val", size), ("y_val", size),
        ("x_test", size), ("y_test", size))), splits.num_classes, splits.source)


@dataclasses.dataclass(frozen=True)
class DataSummary:
    """What the checks need of a preset's data, without its images."""

    input_shape: tuple
    num_classes: int
    split_sizes: dict
    tiny: Splits | None  # the first images, to train a source run on

    def sizes(self) -> dict:
        return self.split_sizes


def data_and_batch(cfg):
    """A summary of the preset's data and two images of a first training batch, checked; made
    once per data setting."""
    method = methods.method_of(cfg)
    if cfg.dataset == "imagenet2012":
        key = (cfg.manual_dir, cfg.image_size, cfg.batchsize)
    else:
        raw = loading.load_raw(cfg.dataset, cfg.data_source, cfg.data_dir, cfg.manual_dir,
                               cfg.tfds_data_dir)
        scale = method.runtime.input_scale(cfg, raw.x_train.shape[1:], raw.num_classes)
        key = (*(getattr(cfg, name) for name in DATA_FIELDS), cfg.resnet_quirks, scale,
               cfg.batchsize)
    if key not in _DATA:
        data = loading.load_data(cfg)
        tiny = _tiny(data) if isinstance(data, Splits) else None
        # The preset's preprocessing ran on the whole data set; the batching code is the same
        # for any split, so it runs on the tiny copy (a whole CIFAR-10 pipeline holds two more
        # copies of the images).
        batched = data if tiny is None else tiny
        x, y = next(iter(batched.train_batches(cfg.batchsize, 1).epoch(0)))
        size = min(cfg.batchsize, batched.sizes()["train"])
        assert tuple(x.shape) == (size, *data.input_shape)
        assert tuple(y.shape) == (size, data.num_classes)
        assert np.isfinite(np.asarray(x)).all()
        _DATA[key] = (DataSummary(tuple(data.input_shape), data.num_classes, data.sizes(), tiny),
                      np.array(np.asarray(x)[:2]))
    return _DATA[key]


def check_pipeline_and_model(cfg) -> DataSummary:
    """The preset's data (its batch and, once per setting, its model checked)."""
    data, x = data_and_batch(cfg)
    method = methods.method_of(cfg)
    key = (cfg.traintype, cfg.nettype) if cfg.nettype in HEAVY else \
        tuple(sorted(cfg.to_dict().items()))
    if key not in _BUILT:
        _BUILT.add(key)
        model = method.runtime.build_model(cfg, data.input_shape, data.num_classes, 1,
                                           method.runtime.prepare(cfg))
        out = model(x, training=True)  # the training path: augmentation included
        assert tuple(out.shape) == (2, data.num_classes)
        assert np.allclose(np.sum(np.asarray(out), axis=1), 1.0, atol=1e-4)
    return data


def _small(name: str, request: dict) -> dict:
    cfg = parse_commands(_argv(name, data_dir=request["data_dir"])).commands[0].cfg
    data = check_pipeline_and_model(cfg)
    return {"input_shape": list(data.input_shape), "num_classes": data.num_classes,
            "train": data.sizes()["train"], "dataset": cfg.dataset, "split": cfg.split,
            "method": cfg.method}


def _imagenet(name: str, request: dict) -> dict:
    cfg = parse_command(_argv(name, manual_dir=request["imagenet_dir"],
                              tfds_data_dir=request["tfds_dir"])).cfg
    data = check_pipeline_and_model(cfg)
    return {"input_shape": list(data.input_shape), "num_classes": data.num_classes,
            "dataset": cfg.dataset, "image_size": cfg.image_size}


def _finetune(name: str, request: dict) -> dict:
    greedy = name.replace("_finetune", "_greedy")
    # VGG19: two slots instead of eight keep the source run small (the fine-tuned network is
    # the same: the selected value of every connection).
    slots = {"slots": 2} if "vgg19" in name else {}
    folder = Path(request["tmp"]) / name
    source_cfg = parse_command(_argv(greedy, data_dir=request["data_dir"], maxepochs=1, seed=1,
                                     outputpath=folder, progress="none", tensorboard=False,
                                     **slots)).cfg
    data, _ = data_and_batch(source_cfg)
    source = Trainer(source_cfg, data=data.tiny, echo=None).run()
    cfg = parse_command(_argv(name, data_dir=request["data_dir"], finetune_from=source.run_dir,
                              finetune_epoch=1)).cfg
    check_pipeline_and_model(cfg)
    return {"greedy": greedy}


CHECKS = {"small": _small, "imagenet": _imagenet, "finetune": _finetune}


def main() -> int:
    request = json.loads(sys.stdin.read())
    loading.load_raw = _load_raw_once(loading.load_raw)  # each data set read from disk once
    for kind, name in request["checks"]:
        try:
            result = {"ok": True, **CHECKS[kind](name, request)}
        except Exception:  # reported to the test of this preset, which fails with it
            result = {"ok": False, "error": traceback.format_exc(limit=8)}
        print(json.dumps({"kind": kind, "name": name, **result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
