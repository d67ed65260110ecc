"""``python -m experiments.crosscheck``: run the cross-check targets (docs/crosscheck.md)
and the released checkpoints, and write ``crosscheck.md`` and ``crosscheck.csv`` under
``--outputpath``.

    python -m experiments.crosscheck --quick --data_dir DIR        # < 60 min on 2 CPU cores
    python -m experiments.crosscheck --targets C4,C5 --seeds 3
    python -m experiments.crosscheck --full --stop_after 9     # a GPU, in resumable chunks

Run the same command again after a kill or a ``--stop_after`` stop: finished runs are reused,
an interrupted or killed one resumes from its checkpoint if it still matches the record written
when it stopped or as its last epoch began (else it is set aside and trained again). Exit
status: 0 all pass, 1 something failed or did not reproduce, 2 bad arguments or another
cross-check using --outputpath, 3 stopped before the end (run it again).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from experiments.crosscheck.catalogue import by_id, default_ids  # noqa: E402
from masktrainer.config import OPTIONS  # noqa: E402
from masktrainer.errors import FAILED_EXIT, STOPPED_EXIT, USAGE_EXIT  # noqa: E402
from masktrainer.run.provenance import process_git_state  # noqa: E402

PROG = "python -m experiments.crosscheck"
# The released LaPerm checkpoints, where the project's checkout keeps them.
# The authors' released .h5 files: the pretrained/ folder of github.com/ihsuy/Train-by-Reconnect.
DEFAULT_PRETRAINED = Path("pretrained")


MAX_SEEDS = 1000
MAX_SEED = int(OPTIONS["seed"].maximum)  # the trainer's own bound
MAX_STOP_MINUTES = 43_200


class ArgumentError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=None,
                        help="comma list of target ids (default: every CPU target, C12 and the "
                             "checkpoints R1-R7; --full adds G1-G5). Ids: "
                             + ", ".join(by_id()))
    parser.add_argument("--quick", action="store_true",
                        help="shortened runs (floors of ours, marked 'quick' in the report)")
    parser.add_argument("--seeds", default="1",
                        help="N (seeds 1..N) or a comma list of seeds (default 1)")
    parser.add_argument("--full", action="store_true", help="add the GPU targets (needs a GPU)")
    parser.add_argument("--outputpath", default="Outputs/crosscheck",
                        help="runs, evaluations.json and the report (default Outputs/crosscheck)")
    parser.add_argument("--data_dir", default=None,
                        help="local MNIST/CIFAR-10 files (passed to every run)")
    parser.add_argument("--pretrained_dir", default=None,
                        help=f"the released LaPerm .h5 files (default {DEFAULT_PRETRAINED} if "
                             "it exists)")
    parser.add_argument("--readme", default=None,
                        help="also write the report's table into this Markdown file between its "
                             "crosscheck markers, the --quick block or the full-schedule one "
                             "(the project's docs/crosscheck.md)")
    parser.add_argument("--stop_after", type=float, default=None,
                        help=f"minutes: checkpoint the running run and stop (exit "
                             f"{STOPPED_EXIT}) after this")
    return parser


def _seeds(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ArgumentError(f"--seeds must be N or a comma list of integers (got {text!r})")
    if len(values) == 1 and "," not in text:
        if not 1 <= values[0] <= MAX_SEEDS:
            raise ArgumentError(f"--seeds N must be in 1..{MAX_SEEDS} (got "
                                f"{str(values[0])[:20]}; each seed trains every target once)")
        values = list(range(1, values[0] + 1))
    if len(values) > MAX_SEEDS or any(v > MAX_SEED for v in values):
        raise ArgumentError(f"--seeds takes at most {MAX_SEEDS} seeds, each at most {MAX_SEED} "
                            f"(got {text[:40]!r})")
    if not values or any(v < 0 for v in values) or len(set(values)) != len(values):
        raise ArgumentError(f"--seeds needs at least one distinct non-negative seed (got {text!r})")
    return values


def options(argv: list[str]):
    from experiments.crosscheck.driver import Options, output_problem
    from masktrainer.safe_io import folder_problem, given_paths_problem

    args = _parser().parse_args(argv)
    problem = given_paths_problem({f"--{name}": getattr(args, name) for name in
                                   ("outputpath", "data_dir", "pretrained_dir", "readme")})
    if problem:
        raise ArgumentError(problem)
    known = by_id()
    ids = default_ids(args.full) if args.targets is None else [
        t.strip().upper() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in ids if t not in known]
    if unknown or not ids:
        raise ArgumentError(f"--targets: unknown {', '.join(unknown) or '(none given)'}; "
                            f"known: {', '.join(known)}")
    problem = folder_problem(args.outputpath)
    if problem:
        raise ArgumentError(f"--outputpath {args.outputpath}: {problem}")
    problem = output_problem(Path(args.outputpath))
    if problem:
        raise ArgumentError(f"--outputpath: {problem}")
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        raise ArgumentError(f"--data_dir {args.data_dir} is not a directory")
    pretrained = Path(args.pretrained_dir) if args.pretrained_dir else (
        DEFAULT_PRETRAINED if DEFAULT_PRETRAINED.is_dir() else None)
    if args.pretrained_dir and not pretrained.is_dir():
        raise ArgumentError(f"--pretrained_dir {args.pretrained_dir} is not a directory")
    if args.stop_after is not None and not 0 < args.stop_after <= MAX_STOP_MINUTES:
        raise ArgumentError(f"--stop_after must be a number of minutes in "
                            f"(0, {MAX_STOP_MINUTES}] (got {args.stop_after}; 30 days at most)")
    if args.readme is not None:
        from experiments.crosscheck.readme import ReadmeError, update_readme

        if Path(args.readme).is_symlink():
            raise ArgumentError(f"--readme {args.readme} is a link; it is rewritten in place, "
                                "never through a link")
        try:
            update_readme(Path(args.readme), "", quick=args.quick)
        except (OSError, ReadmeError) as err:
            raise ArgumentError(f"--readme: {err}")
    gpu_ids = [t for t in ids if known[t].kind == "gpu"]
    if gpu_ids and not args.full:
        raise ArgumentError(f"{', '.join(gpu_ids)}: GPU target{'s' * (len(gpu_ids) > 1)}, "
                            "add --full")
    if args.full:
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            raise ArgumentError("--full runs the GPU targets and needs a GPU; none is visible "
                                "(leave out --full for the CPU targets)")
    return Options(ids, Path(args.outputpath), _seeds(args.seeds), args.quick, args.full,
                   args.data_dir, pretrained, args.readme), args.stop_after


def _stop_after(minutes: float) -> None:
    """After ``minutes``, ask the running training to stop as SIGTERM would: it checkpoints
    at the next step boundary and marks itself interrupted (resumable)."""
    from experiments.crosscheck.driver import STOP

    def alarm(*_) -> None:
        STOP.set()  # checked before each run; a training run in progress gets SIGTERM
        if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, minutes * 60.0)


def _write_readme(opts) -> None:
    from experiments.crosscheck.readme import ReadmeError, update_readme
    from masktrainer import safe_io
    from masktrainer.errors import RunStateError

    report_md = safe_io.read_regular(opts.outputpath / "crosscheck.md").decode("utf-8")
    try:
        text = update_readme(Path(opts.readme), report_md, opts.quick)
    except ReadmeError as err:  # its markers were edited away while the cross-check ran
        raise RunStateError(str(err)) from None
    safe_io.atomic_write_text(opts.readme, text)


def main(argv: list[str] | None = None) -> int:
    try:
        opts, stop_after = options(sys.argv[1:] if argv is None else argv)
    except ArgumentError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return USAGE_EXIT
    lock = _lock(opts.outputpath)
    if isinstance(lock, str):
        print(f"{PROG}: error: {lock}", file=sys.stderr)
        return USAGE_EXIT
    process_git_state()  # the commit this process's code comes from, for every run it trains
    try:
        return _run(opts, stop_after)
    finally:
        lock.release()


def _lock(folder: Path):
    """The output folder's lock (the library's RunLock, as export locks its folder), or the
    one line saying why not: two cross-checks into one folder would train the same runs twice
    and keep only the last writer's records."""
    from masktrainer.errors import RunStateError
    from masktrainer.run.lock import RunLock

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return f"cannot create {folder}: {err.strerror}"
    lock = RunLock()
    try:
        lock.acquire(folder, busy=f"another cross-check is using {folder}; wait for it to "
                                  "finish (or stop it) first")
    except RunStateError as err:
        return str(err)
    return lock


def _run(opts, stop_after: float | None) -> int:
    from experiments.crosscheck.driver import run_crosscheck
    from experiments.crosscheck.runs import CrosscheckError
    from masktrainer.errors import RunInterrupted, RunStateError, RunWriteError

    if stop_after:
        _stop_after(stop_after)
    try:
        rows = run_crosscheck(opts)
    except RunInterrupted:
        print(f"{PROG}: stopped before the end (checkpointed); run the same command again to "
              f"continue. Partial report: {opts.outputpath / 'crosscheck.md'}", file=sys.stderr)
        return STOPPED_EXIT
    except (CrosscheckError, RunStateError, RunWriteError) as err:
        # RunStateError/RunWriteError: a report file refused (a link planted meanwhile, a full
        # disk); the runs trained stay and are reused by the next cross-check.
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return FAILED_EXIT
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    print(f"report: {opts.outputpath / 'crosscheck.md'} and crosscheck.csv")
    if opts.readme:
        try:
            _write_readme(opts)
        except (OSError, RunStateError, RunWriteError) as err:
            print(f"{PROG}: error: --readme: {err}", file=sys.stderr)
            return FAILED_EXIT
        print(f"updated {opts.readme}")
    return 0 if all(row.verdict.status in ("pass", "not run") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
