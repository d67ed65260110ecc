"""Presets: one flag file per experiment of the originals. Every preset validates, builds its
model and its data pipeline (no training); ``--preset list``, overrides and requirements."""

import dataclasses
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from masktrainer import methods
from masktrainer.cli import UsageError, parse_command, parse_commands
from masktrainer.config import OPTIONS
from masktrainer.data.preprocessing import Splits
from masktrainer.errors import ConfigError
from masktrainer.nn.architectures import IMAGENET_ARCHITECTURES
from masktrainer.presets import all_presets, get_preset, listing, preset_dir
from masktrainer.run import loading
from masktrainer.run.trainer import Trainer

PRESETS = {preset.name: preset for preset in all_presets()}
# INDEX.md "Experiments the originals support"; 13 is the plotter's weight profiles and tracer.
INDEX_EXPERIMENTS = set(range(1, 26)) - {13}
# Built once per (train type, architecture): the big ones take tens of seconds each on CPU.
HEAVY = ("VGG19", *IMAGENET_ARCHITECTURES)


def _flag_lines(preset):
    return [line for line in preset.path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def _argv(name, **extra):
    return ["masktrainer", "--preset", name, *(f"--{k}={v}" for k, v in extra.items())]


def _grid(preset):
    """A sweep preset's ``--grid`` (flag, values), or None."""
    spec = next((line[len("--grid="):] for line in _flag_lines(preset)
                 if line.startswith("--grid=")), None)
    if spec is None:
        return None
    name, _, values = spec.partition("=")
    return name, values.split(",")


def _first_cfg(argv):
    """The run of a preset (the first member of a sweep preset)."""
    return parse_commands(argv).commands[0].cfg


def test_a_preset_for_every_experiment_of_the_originals():
    assert len(PRESETS) >= 100
    cited = set()
    for preset in PRESETS.values():
        assert preset.title and preset.source, preset.name
        assert preset.protocol == "original", f"{preset.name} does not set --protocol=original"
        if preset.name.startswith("slot_"):  # the paper's recipe and the code's disagree
            assert ("the paper's recipe" in preset.title) != ("the code's recipe" in
                                                              preset.title), preset.name
        match = re.search(r"INDEX ([0-9, ]+)", preset.source)
        assert match, f"{preset.name} does not cite its INDEX.md experiment"
        cited |= {int(n) for n in re.findall(r"\d+", match.group(1))}
        # the original setting it reproduces: a file or config name
        assert re.search(r"\.(py|yml|yaml|ipynb|md)\b", preset.source), preset.name
        for line in _flag_lines(preset):
            name = line.split("=", 1)[0]
            assert name.startswith("--") and (name[2:] in OPTIONS or name == "--grid"), (
                preset.name, line)
    assert INDEX_EXPERIMENTS <= cited, sorted(INDEX_EXPERIMENTS - cited)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_validates_and_says_what_it_sets(name, tmp_path):
    preset = PRESETS[name]
    needs = {req.lstrip("-"): str(tmp_path) for req in preset.requires}
    plan = parse_commands(_argv(name, **needs))
    grid = _grid(preset)
    if grid is None:
        assert not plan.sweep
    else:  # a sweep preset: one run per value of its --grid flag
        flag, values = grid
        assert [str(getattr(c.cfg, flag)) for c in plan.commands] == values
    command = plan.commands[0]
    cfg = command.cfg
    assert command.invocation["preset"] == name
    assert cfg.to_dict() == type(cfg).from_dict(cfg.to_dict()).to_dict()
    for line in _flag_lines(preset):
        if line.startswith("--grid="):
            continue
        flag, _, value = line[2:].partition("=")
        got = getattr(cfg, flag)
        if isinstance(got, bool):
            assert got is (value.lower() not in ("false", "0")) if value else got, line
        elif isinstance(got, (int, float)):
            assert got == pytest.approx(float(value)), line
        else:
            assert str(got) == value, line
    for required in needs:
        with pytest.raises(UsageError, match=f"--preset {name} needs --{required}"):
            parse_commands(_argv(name))


def test_flags_after_a_preset_override_it_and_errors_are_one_line():
    cfg = parse_command(_argv("edge_popup_conv4_sc", keep_ratio=0.3, maxepochs=2)).cfg
    assert (cfg.keep_ratio, cfg.maxepochs, cfg.initializer, cfg.scale_fan) == (
        0.3, 2, "signed_constant", True)
    before = parse_command(["masktrainer", "--nettype=Conv2", "--preset", "laperm_f1"]).cfg
    assert before.nettype == "F1"  # the preset comes later and wins
    with pytest.raises(UsageError, match="is not a preset .*edge_popup_conv2"):
        parse_command(_argv("edge_popup"))
    with pytest.raises(UsageError, match="give --preset once"):
        parse_command(_argv("laperm_f1") + ["--preset", "laperm_f2"])
    with pytest.raises(UsageError, match="drop --preset"):
        parse_command(_argv("laperm_f1") + ["--resume", "somewhere"])
    with pytest.raises(ConfigError, match="not a preset"):
        get_preset("../presets/laperm_f1")
    with pytest.raises(UsageError, match="--split=head is not the original's protocol"):
        parse_command(_argv("edge_popup_conv4_ukn", split="head"))
    held_out = parse_command(_argv("edge_popup_conv4_ukn", protocol="held_out")).cfg
    assert (held_out.split, held_out.eval_sets) == ("head", "val,test")


def test_preset_list_prints_one_line_each_and_the_cli_exits_cleanly():
    lines = listing().splitlines()
    assert len(lines) == len(PRESETS)
    assert all(line.split()[0] in PRESETS for line in lines)
    assert all(line.split()[1:3] == ["[original", "protocol]"] for line in lines)
    result = subprocess.run([sys.executable, "-m", "masktrainer", "--preset", "list"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == listing()
    bad = subprocess.run([sys.executable, "-m", "masktrainer", "--preset", "nope"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert preset_dir().parent.name == "masktrainer"  # the library's own, not experiments'


# -- models and data pipelines ---------------------------------------------------------------

_RAW: dict = {}
_BUILT: set = set()
_DATA: dict = {}
# What load_data and the training batches depend on (--augment is a layer of the model).
DATA_FIELDS = tuple(o.name for o in OPTIONS.values()
                    if o.group == "data" and o.name not in ("augment", "eval_batchsize"))


@pytest.fixture(scope="module", autouse=True)
def _release_caches():
    """The module's caches go with it (a data set read once is still 200 MB)."""
    yield
    _RAW.clear(), _BUILT.clear(), _DATA.clear()


@pytest.fixture
def cached_raw(monkeypatch):
    """Read each data set from disk once for the whole module."""
    real = loading.load_raw

    def load(dataset, *args):
        if (dataset, *args) not in _RAW:
            _RAW[(dataset, *args)] = real(dataset, *args)
        return _RAW[(dataset, *args)]

    monkeypatch.setattr(loading, "load_raw", load)


def _tiny(splits: Splits, size: int = 32) -> Splits:
    return Splits(splits.x_train[:2 * size], splits.y_train[:2 * size], splits.x_val[:size],
                  splits.y_val[:size], splits.x_test[:size], splits.y_test[:size],
                  splits.num_classes, splits.source)


@dataclasses.dataclass(frozen=True)
class _DataSummary:
    """What the tests need of a preset's data, without its images: holding every data
    setting's whole prepared CIFAR-10 for the module took the suite to 20 GB."""

    input_shape: tuple
    num_classes: int
    split_sizes: dict
    tiny: Splits | None  # a few images of each split (None: streamed ImageNet)

    def sizes(self) -> dict:
        return self.split_sizes


def _data_and_batch(cfg):
    """A summary of the preset's data and a first training batch, checked; made once per
    data setting."""
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
        if tiny is not None:  # copies: a slice is a view that keeps the whole split alive
            tiny = Splits(*(np.array(getattr(tiny, name)) for name in (
                "x_train", "y_train", "x_val", "y_val", "x_test", "y_test")),
                tiny.num_classes, tiny.source)
        # The preset's preprocessing ran on the whole data set; the batching code is the same
        # for any split, so it runs on the tiny copy (a whole CIFAR-10 pipeline holds two more
        # copies of the images: most of the suite's peak memory).
        batched = data if tiny is None else tiny
        x, y = next(iter(batched.train_batches(cfg.batchsize, 1).epoch(0)))
        size = min(cfg.batchsize, batched.sizes()["train"])
        assert tuple(x.shape) == (size, *data.input_shape)
        assert tuple(y.shape) == (size, data.num_classes)
        assert np.isfinite(np.asarray(x)).all()
        _DATA[key] = (_DataSummary(tuple(data.input_shape), data.num_classes, data.sizes(),
                                   tiny), np.array(np.asarray(x)[:2]))
    return _DATA[key]


def _check_pipeline_and_model(cfg, prepared=None):
    """Returns the preset's data (its batch and, once per setting, its model checked)."""
    data, x = _data_and_batch(cfg)
    method = methods.method_of(cfg)
    heavy = cfg.nettype in HEAVY
    key = (cfg.traintype, cfg.nettype) if heavy else tuple(sorted(cfg.to_dict().items()))
    if key in _BUILT:
        return data
    _BUILT.add(key)
    model = method.runtime.build_model(cfg, data.input_shape, data.num_classes, 1,
                               method.runtime.prepare(cfg) if prepared is None else prepared)
    out = model(x, training=True)  # the training path: augmentation included
    assert tuple(out.shape) == (2, data.num_classes)
    assert np.allclose(np.sum(np.asarray(out), axis=1), 1.0, atol=1e-4)
    return data


SMALL = sorted(name for name, preset in PRESETS.items() if not preset.requires)


@pytest.mark.parametrize("name", SMALL)
def test_every_preset_builds_its_model_and_data_pipeline(name, shared_data_dir, cached_raw):
    cfg = _first_cfg(_argv(name, data_dir=shared_data_dir))
    data = _check_pipeline_and_model(cfg)
    expected = {"mnist": ((28, 28, 1), 10), "cifar10": ((32, 32, 3), 10)}[cfg.dataset]
    assert (tuple(data.input_shape), data.num_classes) == expected, name
    # The original's protocol: hidden-networks and LaPerm train on every training image,
    # Slot Machines on its index split, self-pruning on all but the first 5,000.
    every = {"mnist": 60_000, "cifar10": 50_000}[cfg.dataset]
    train = {"test": every, "slot_machines": {"mnist": 50_000, "cifar10": 45_000}[cfg.dataset],
             "head": every - 5_000}[cfg.split]
    assert data.sizes()["train"] == train, name
    hidden_networks = cfg.method in ("edge_popup", "supermask_sampling", "dense_baseline",
                                     "biprop")
    assert cfg.split == ("test" if hidden_networks or cfg.method == "laperm" else
                         "slot_machines" if cfg.method.startswith("slot") else "head"), name


IMAGENET = sorted(name for name, preset in PRESETS.items() if "--manual_dir" in preset.requires)


@pytest.mark.parametrize("name", IMAGENET)
def test_imagenet_presets_build_on_a_fake_ilsvrc(name, fake_imagenet, tmp_path_factory):
    tfds_dir = tmp_path_factory.getbasetemp() / "preset_tfds"  # prepared once, then reused
    cfg = parse_command(_argv(name, manual_dir=fake_imagenet, tfds_data_dir=tfds_dir)).cfg
    assert cfg.dataset == "imagenet2012" and cfg.image_size == 224
    data, _ = _data_and_batch(cfg)
    assert data.input_shape == (224, 224, 3) and data.num_classes == 1000
    _check_pipeline_and_model(cfg)


FINETUNE = sorted(name for name, preset in PRESETS.items() if "--finetune_from" in preset.requires)


@pytest.mark.parametrize("name", FINETUNE)
def test_finetune_presets_build_from_a_run_of_their_greedy_preset(
        name, shared_data_dir, cached_raw, tmp_path):
    greedy = name.replace("_finetune", "_greedy")
    assert greedy in PRESETS
    # VGG19: two slots instead of eight keep the source run small (the fine-tuned network is
    # the same: the selected value of every connection).
    slots = {"slots": 2} if "vgg19" in name else {}
    source_cfg = parse_command(_argv(greedy, data_dir=shared_data_dir, maxepochs=1, seed=1,
                                     outputpath=tmp_path, progress="none", tensorboard=False,
                                     **slots)).cfg
    data, _ = _data_and_batch(source_cfg)
    source = Trainer(source_cfg, data=data.tiny, echo=None).run()
    cfg = parse_command(_argv(name, data_dir=shared_data_dir, finetune_from=source.run_dir,
                              finetune_epoch=1)).cfg
    _check_pipeline_and_model(cfg)


def test_print_config_shows_the_protocol(capsys):
    from masktrainer.cli import main

    assert main(["masktrainer", "--preset", "edge_popup_conv4_ukn", "--print_config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["protocol"], printed["split"], printed["eval_sets"]) == (
        "original", "test", "test")
    assert main(["masktrainer", "--traintype=EdgePopup", "--print_config"]) == 0
    assert json.loads(capsys.readouterr().out)["protocol"] == "held_out"
