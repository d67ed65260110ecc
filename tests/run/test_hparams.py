"""Runs as sessions of TensorBoard's HParams dashboard, read back by TensorBoard's own HParams
backend (the code behind the dashboard), not by ours."""

import math

import pytest
import tensorflow as tf
from run_support import random_splits

from masktrainer import layout
from masktrainer.config import RunConfig
from masktrainer.run import hparams
from masktrainer.run.trainer import train


def test_values_are_the_configuration_without_settings_or_seed():
    config = {"traintype": "MinPruning", "lr": 0.003, "bn": False, "seed": 4, "progress": "bar",
              "outputpath": "x", "lr_milestones": [10, 20], "finetune_from": None,
              "weight_decay": math.inf}
    values = hparams.hparam_values(config)
    assert values == {"traintype": "MinPruning", "lr": 0.003, "bn": False,
                      "lr_milestones": "[10, 20]", "finetune_from": "null", "weight_decay": "inf"}
    assert not set(values) & set(layout.SETTING_KEYS)


def test_seeds_of_one_configuration_share_a_group():
    one = hparams.hparam_values({"lr": 0.003, "seed": 1, "progress": "bar"})
    two = hparams.hparam_values({"lr": 0.003, "seed": 2, "progress": "none"})
    other = hparams.hparam_values({"lr": 0.001, "seed": 1})
    assert hparams.group_name(one) == hparams.group_name(two) != hparams.group_name(other)


def _dashboard(logdir):
    """(experiment, session groups) as TensorBoard's HParams backend serves them."""
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import (
        api_pb2,
        backend_context,
        get_experiment,
        list_session_groups,
    )

    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, str(logdir))
    backend = backend_context.Context(base_plugin.TBContext(
        logdir=str(logdir), data_provider=provider, multiplexer=mux))
    request = context.RequestContext()
    experiment = get_experiment.Handler(request, backend, "",
                                        api_pb2.GetExperimentRequest()).run()
    query = api_pb2.ListSessionGroupsRequest(
        start_index=0, slice_size=100, aggregation_type=api_pb2.AGGREGATION_AVG,
        allowed_statuses=[api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_SUCCESS])
    for info in experiment.hparam_infos:
        query.col_params.add(hparam=info.name)
    for info in experiment.metric_infos:
        query.col_params.add(metric=info.name)
    groups = list_session_groups.Handler(request, backend, "", query).run().session_groups
    return experiment, groups


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A grid of two learning rates, the first over two seeds."""
    out = tmp_path_factory.mktemp("sweep")
    results = [train(RunConfig(traintype="MinPruning", maxepochs=2, batchsize=50, seed=seed,
                               lr=lr, outputpath=str(out), progress="none"),
                     data=random_splits(), echo=None)
               for seed, lr in ((1, 0.003), (2, 0.003), (1, 0.001))]
    return out, results


def test_a_sweep_is_listed_by_tensorboards_hparams_dashboard(sweep):
    out, results = sweep
    experiment, groups = _dashboard(out)
    columns = {info.name for info in experiment.hparam_infos}
    assert {"traintype", "nettype", "lr", "maxepochs", "precision", "protocol"} <= columns
    assert not columns & ({"seed"} | set(layout.SETTING_KEYS))
    assert [(m.name.tag, m.name.group) for m in experiment.metric_infos] == list(hparams.METRICS)
    by_lr = {group.hparams["lr"].number_value: group for group in groups}
    assert sorted(by_lr) == [0.001, 0.003] and len(groups) == 2
    assert [len(by_lr[lr].sessions) for lr in (0.001, 0.003)] == [1, 2]  # seeds pooled
    assert all(g.hparams["traintype"].string_value == "MinPruning" for g in groups)
    reported = [r.metrics["best"]["testAccuracy"] for r in results]
    values = {lr: {(m.name.tag, m.name.group): m.value for m in by_lr[lr].metric_values}
              for lr in by_lr}
    assert values[0.003][("reported/test_accuracy", "")] == pytest.approx(
        (reported[0] + reported[1]) / 2, abs=1e-6)  # the dashboard's mean over the seeds
    assert values[0.001][("reported/test_accuracy", "")] == pytest.approx(reported[2], abs=1e-6)
    assert values[0.001][("reported/epoch", "")] == results[2].metrics["best"]["epoch"]
    assert values[0.001][("epoch_accuracy", "test")] == pytest.approx(
        results[2].metrics["testAccuracy"][-1], abs=1e-6)  # the curve's last value


def test_a_run_without_tensorboard_writes_no_session(tmp_path):
    cfg = RunConfig(traintype="MinPruning", maxepochs=1, batchsize=50, seed=1, tensorboard=False,
                    outputpath=str(tmp_path), progress="none")
    run = train(cfg, data=random_splits(), echo=None).run_dir
    assert not (run / layout.TENSORBOARD_FOLDER).exists()


def test_the_reported_numbers_follow_the_reported_epoch(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    hparams.write_reported(writer, {"epoch": 3, "testAccuracy": 0.5, "valAccuracy": None})
    hparams.write_reported(writer, None)  # nothing reported: nothing written
    writer.close()
    found = {}
    for path in tmp_path.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found[value.tag] = (event.step, float(tf.make_ndarray(value.tensor)))
    assert found == {"reported/test_accuracy": (3, 0.5), "reported/epoch": (3, 3.0)}


def test_an_extended_run_is_a_session_of_its_own(tmp_path):
    """The first session keeps its columns and the numbers it reported; the extension's
    session (nested in extended-N) has the new schedule's columns, group and numbers."""
    from masktrainer.cli import parse_commands
    from masktrainer.run.trainer import Trainer

    first = train(RunConfig(traintype="FreePruning", maxepochs=1, batchsize=50, seed=3,
                            outputpath=str(tmp_path / "runs"), progress="none"),
                  data=random_splits(), echo=None)
    run_dir = first.run_dir
    [command] = parse_commands(["masktrainer", f"--resume={run_dir}", "--maxepochs=2"]).commands
    Trainer(command.cfg, data=random_splits(), echo=None, resume_dir=run_dir,
            resolved_seed=command.resolved_seed).run()
    assert (run_dir / layout.TENSORBOARD_FOLDER / hparams.session_folder(2, True)).is_dir()
    assert hparams.session_folder(2, False) == ""
    _, groups = _dashboard(tmp_path / "runs")
    by_epochs = {g.hparams["maxepochs"].number_value: g for g in groups}
    assert sorted(by_epochs) == [1, 2] and all(len(g.sessions) == 1 for g in groups)
    reported = {epochs: {m.name.tag: m.value for m in g.metric_values if not m.name.group}
                for epochs, g in by_epochs.items()}
    assert reported[1]["reported/test_accuracy"] == pytest.approx(
        first.metrics["best"]["testAccuracy"], abs=1e-6)
    assert reported[2]["reported/epoch"] >= 1
