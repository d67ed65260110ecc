"""``python -m masktrainer evaluate``: test accuracy of a released checkpoint or a finished run.

``--traintype T --nettype NET --weights FILE.h5 [--data_dir DIR]`` loads a Keras 2
``.h5`` file a method's authors released (:mod:`masktrainer.evaluate.h5`; the methods that
have some declare them: ``Method.checkpoints``, today LaPerm's) into the model ``NET`` and
evaluates it with the data use of the run that trained it (LaPerm: the notebook's, as its
preset records it: split and normalisation).
``--run RUN_DIR [--data_dir DIR]`` evaluates any finished run's saved model with the
run's own config. Both print ``test accuracy NN.NN%`` as their last line.

The flags, the weight file (HDF5, layout, arrays) and the run directory are checked
before TensorFlow is imported; a file whose arrays do not fit the model is found when
the model is built, before the data are loaded. Every problem is one line
``masktrainer: error: ...`` on stderr with exit status 2.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Callable, Sequence

from absl import flags

from masktrainer import methods
from masktrainer.commands import UsageError, check_flag_files
from masktrainer.config import RunConfig
from masktrainer.errors import (
    USAGE_EXIT,
    ConfigError,
    DataError,
    RunStateError,
    interrupt_signal,
    sigterm_as_interrupt,
)
from masktrainer.evaluate.h5 import CheckpointError, WeightFile, read_weight_file
from masktrainer.layout import METRICS_FILE
from masktrainer.methods.checkpoints import ReleasedCheckpoints
from masktrainer.safe_io import given_path

#: The methods whose authors released checkpoints, and their train types.
RELEASED = tuple(m for m in methods.METHODS if m.checkpoints is not None)
RELEASED_TYPES = "/".join(t for m in RELEASED for t in m.train_types)
RELEASED_SOURCES = " and ".join(f"{m.checkpoints.source}'s" for m in RELEASED)
USAGE = (f"usage: python -m masktrainer evaluate --traintype {RELEASED_TYPES} --nettype NET "
         "--weights FILE.h5 [--data_dir DIR]\n"
         "       python -m masktrainer evaluate --run RUN_DIR [--data_dir DIR]\n")


class EvaluateError(Exception):
    """A bad command line or input: one line on stderr, exit status 2."""


@dataclasses.dataclass
class Request:
    cfg: RunConfig
    weights: WeightFile | None = None  # a released checkpoint, or
    run_dir: Path | None = None  # a finished run
    seed: int = 1
    recorded: float | None = None  # the run's own final test accuracy


def define_flags(fv: flags.FlagValues) -> None:
    owners = "; ".join(f"{m.name}: the released checkpoints of {m.checkpoints.source}"
                       for m in RELEASED)
    models = "; ".join(f"{m.checkpoints.models} model ({', '.join(m.checkpoints.nets)})"
                       for m in RELEASED)
    flags.DEFINE_string("traintype", None, "With --weights: the method of the checkpoint "
                        f"({owners}).", flag_values=fv)
    flags.DEFINE_string("nettype", None, f"With --weights: the {models}.", flag_values=fv)
    flags.DEFINE_string("weights", None, "A Keras 2 .h5 file (weights-only, or a whole saved "
                        "model).", flag_values=fv)
    flags.DEFINE_string("run", None, "A finished run directory (evaluated with its own "
                        "config).", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "Folder with the data set's files (default: the "
                        "embedded MNIST, or the run's own --data_dir).", flag_values=fv)


def released_checkpoints(traintype: str | None) -> ReleasedCheckpoints:
    """The released checkpoints of ``--traintype``'s method, or EvaluateError."""
    owner = next((m for m in RELEASED if traintype in m.train_types), None)
    if owner is None:
        raise EvaluateError(f"--weights needs --traintype {RELEASED_TYPES} (the released "
                            f"checkpoints are {RELEASED_SOURCES})")
    return owner.checkpoints


def _checkpoint_request(fv: flags.FlagValues) -> Request:
    if fv["run"].present:
        raise EvaluateError("give --weights or --run, not both")
    checkpoints = released_checkpoints(fv["traintype"].value)
    nettype = fv["nettype"].value
    if nettype not in checkpoints.nets:
        raise EvaluateError(f"--weights needs --nettype, one of {', '.join(checkpoints.nets)} "
                            f"(got {nettype!r})")
    cfg = RunConfig(**checkpoints.settings(nettype), data_dir=fv["data_dir"].value)
    return Request(cfg, weights=read_weight_file(fv["weights"].value))


def _run_request(fv: flags.FlagValues) -> Request:
    from masktrainer import layout
    from masktrainer.export.cli import ExportError, check_run_dir
    from masktrainer.methods.upgrade import config_values

    given = [f"--{name}" for name in ("traintype", "nettype") if fv[name].present]
    if given:
        raise EvaluateError(f"--run evaluates a run with its own config; drop {' '.join(given)}")
    try:
        path, config = check_run_dir(fv["run"].value)
    except ExportError as err:
        raise EvaluateError(str(err)) from None
    values = config_values(config)
    if fv["data_dir"].present:
        values["data_dir"] = fv["data_dir"].value
    try:
        cfg = RunConfig.from_dict(values)
    except ConfigError as err:
        raise EvaluateError(f"{path / layout.CONFIG_FILE}: {err}") from None
    test = layout.read_metrics(path).get("testAccuracy") or [None]
    recorded = test[-1] if isinstance(test[-1], (int, float)) else None
    return Request(cfg, run_dir=path, seed=config["resolved_seed"], recorded=recorded)


def parse_request(argv: Sequence[str]) -> Request:
    """argv (argv[0] = ``evaluate``) -> what to evaluate, or EvaluateError (no TensorFlow)."""
    fv = flags.FlagValues()
    define_flags(fv)
    check_flag_files(fv)  # no FIFO, device or binary file behind --flagfile
    try:
        rest = fv(["evaluate", *argv[1:]])
    except flags.Error as err:
        raise EvaluateError(str(err).splitlines()[0]) from None
    except UsageError as err:
        raise EvaluateError(str(err)) from None
    if len(rest) > 1:
        raise EvaluateError(f"unexpected argument(s): {' '.join(rest[1:])}")
    data_dir = fv["data_dir"].value
    if data_dir == "":  # before the run's config: the flag is at fault, not the run
        raise EvaluateError("--data_dir must not be empty")
    if data_dir is not None:
        try:
            data_dir = str(given_path(data_dir, "--data_dir"))  # a control character, ...
        except RunStateError as err:
            raise EvaluateError(str(err)) from None
        if not Path(data_dir).is_dir():
            raise EvaluateError(f"--data_dir {data_dir} is not a directory")
    try:
        if fv["weights"].present:
            return _checkpoint_request(fv)
        if fv["run"].present:
            return _run_request(fv)
    except (ConfigError, CheckpointError, RunStateError) as err:
        raise EvaluateError(str(err)) from None
    raise EvaluateError("give --weights FILE.h5 (with --traintype and --nettype) or --run RUN_DIR")


def evaluate(request: Request, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Build or load the model, then score the test split; returns loss, accuracy, top5.

    The model (and, for a checkpoint, the match of every array to its layer) comes first,
    so a file that does not fit is refused before anything is printed or loaded."""
    from masktrainer.quiet import import_tensorflow

    import_tensorflow()  # TensorFlow's start-up lines filtered, as for train and export
    from masktrainer.evaluate.scoring import (
        checkpoint_model,
        run_model,
        score_test_split,
    )
    from masktrainer.run.loading import load_data

    cfg = request.cfg
    if request.weights is not None:
        checkpoints = released_checkpoints(cfg.traintype)
        shape = checkpoints.input_shape(cfg.nettype)
        model, matched = checkpoint_model(checkpoints, cfg.nettype, request.weights, shape, 10)
        notes = [request.weights.describe()]
        if matched.dropped:
            notes.append(f"dropped {len(matched.dropped)} all-zero bias vector(s) the "
                         f"{checkpoints.models}'s {cfg.nettype} has no place for: "
                         f"{', '.join(matched.dropped)}")
    else:
        model = run_model(request.run_dir)
        notes = [f"run {request.run_dir}: {cfg.traintype} {cfg.nettype} on {cfg.dataset}"]
    data = load_data(cfg)
    for note in notes:
        echo(note)
    echo(f"data: {data.source}; normalization {cfg.normalization}, split {cfg.split}")
    scores = score_test_split(cfg, model, data, request.seed)
    if request.recorded is not None:
        echo(f"{METRICS_FILE}: test accuracy {100 * request.recorded:.2f}% at the last epoch")
    echo(f"test loss {scores['loss']:.4f}, top-5 {100 * scores['top5']:.2f}%")
    echo(f"test accuracy {100 * scores['accuracy']:.2f}%")
    return scores


def evaluate_main(argv: Sequence[str]) -> int:
    """``argv[0]`` is ``evaluate``; returns the exit status."""
    if any(arg in ("-h", "--help", "-help", "--helpfull") for arg in argv[1:]):
        fv = flags.FlagValues()
        define_flags(fv)
        print(USAGE + fv.get_help(), end="\n")
        return 0
    try:
        with sigterm_as_interrupt():  # SIGTERM takes the Ctrl-C path below
            evaluate(parse_request(argv))
    except (EvaluateError, CheckpointError, ConfigError, DataError, RunStateError) as err:
        print(f"masktrainer: error: {err}", file=sys.stderr)
        return USAGE_EXIT
    except KeyboardInterrupt as stop:  # evaluate writes nothing: nothing is left half done
        status, name = interrupt_signal(stop)
        print(f"masktrainer: error: evaluate interrupted ({name}); nothing was written",
              file=sys.stderr)
        return status
    return 0
