"""Presets: one flag file per experiment of the originals. Every preset validates, builds its
model and its data pipeline (no training); ``--preset list``, overrides and requirements."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from masktrainer.cli import UsageError, parse_command, parse_commands
from masktrainer.config import OPTIONS
from masktrainer.errors import ConfigError
from masktrainer.presets import all_presets, get_preset, listing, preset_dir

PRESETS = {preset.name: preset for preset in all_presets()}
# INDEX.md "Experiments the originals support"; 13 is the plotter's weight profiles and tracer.
INDEX_EXPERIMENTS = set(range(1, 26)) - {13}


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


# -- models and data pipelines, built in a process of their own (preset_builds.py) ----------

BUILDS = Path(__file__).with_name("preset_builds.py")
SMALL = sorted(name for name, preset in PRESETS.items() if not preset.requires)
IMAGENET = sorted(name for name, preset in PRESETS.items() if "--manual_dir" in preset.requires)
FINETUNE = sorted(name for name, preset in PRESETS.items() if "--finetune_from" in preset.requires)
KINDS = {"test_every_preset_builds_its_model_and_data_pipeline": "small",
         "test_imagenet_presets_build_on_a_fake_ilsvrc": "imagenet",
         "test_finetune_presets_build_from_a_run_of_their_greedy_preset": "finetune"}


@pytest.fixture(scope="module")
def builds(request, tmp_path_factory):
    """kind -> {preset: what its build reported}; one process per kind, over the presets this
    session selected (``-k`` picks a few), started when the first test of the kind runs."""
    done: dict[str, dict] = {}

    def build(kind: str, **paths) -> dict:
        if kind not in done:
            names = [item.callspec.params["name"] for item in request.session.items
                     if item.module is request.module and KINDS.get(item.originalname) == kind]
            order = {"checks": [[kind, name] for name in names], **paths,
                     "tmp": str(tmp_path_factory.mktemp(f"preset_{kind}"))}
            result = subprocess.run([sys.executable, str(BUILDS)], input=json.dumps(order),
                                    capture_output=True, text=True, timeout=3600)
            lines = [json.loads(line) for line in result.stdout.splitlines()
                     if line.startswith("{")]
            done[kind] = {line["name"]: line for line in lines}
            assert done[kind] or result.returncode == 0, result.stderr[-3000:]
        return done[kind]

    return build


def _built(builds, kind: str, name: str, **paths) -> dict:
    found = builds(kind, **paths).get(name)
    assert found is not None, f"the build process reported nothing for {name}"
    if not found["ok"]:
        pytest.fail(f"{name}:\n{found['error']}")
    return found


@pytest.mark.parametrize("name", SMALL)
def test_every_preset_builds_its_model_and_data_pipeline(name, shared_data_dir, builds):
    data = _built(builds, "small", name, data_dir=str(shared_data_dir))
    expected = {"mnist": [[28, 28, 1], 10], "cifar10": [[32, 32, 3], 10]}[data["dataset"]]
    assert [data["input_shape"], data["num_classes"]] == expected, name
    # The original's protocol: hidden-networks and LaPerm train on every training image,
    # Slot Machines on its index split, self-pruning on all but the first 5,000.
    every = {"mnist": 60_000, "cifar10": 50_000}[data["dataset"]]
    slot_machines = {"mnist": 50_000, "cifar10": 45_000}[data["dataset"]]
    train = {"test": every, "slot_machines": slot_machines, "head": every - 5_000}
    assert data["train"] == train[data["split"]], name
    method = data["method"]
    hidden_networks = method in ("edge_popup", "supermask_sampling", "dense_baseline", "biprop")
    assert data["split"] == ("test" if hidden_networks or method == "laperm" else
                             "slot_machines" if method.startswith("slot") else "head"), name


@pytest.mark.parametrize("name", IMAGENET)
def test_imagenet_presets_build_on_a_fake_ilsvrc(name, fake_imagenet, tmp_path_factory, builds):
    tfds_dir = tmp_path_factory.getbasetemp() / "preset_tfds"  # prepared once, then reused
    data = _built(builds, "imagenet", name, imagenet_dir=str(fake_imagenet),
                  tfds_dir=str(tfds_dir))
    assert (data["dataset"], data["image_size"]) == ("imagenet2012", 224)
    assert (data["input_shape"], data["num_classes"]) == ([224, 224, 3], 1000)


@pytest.mark.parametrize("name", FINETUNE)
def test_finetune_presets_build_from_a_run_of_their_greedy_preset(name, shared_data_dir,
                                                                  builds):
    data = _built(builds, "finetune", name, data_dir=str(shared_data_dir))
    assert data["greedy"] in PRESETS


def test_print_config_shows_the_protocol(capsys):
    from masktrainer.cli import main

    assert main(["masktrainer", "--preset", "edge_popup_conv4_ukn", "--print_config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["protocol"], printed["split"], printed["eval_sets"]) == (
        "original", "test", "test")
    assert main(["masktrainer", "--traintype=EdgePopup", "--print_config"]) == 0
    assert json.loads(capsys.readouterr().out)["protocol"] == "held_out"
