"""Running parsed train commands (one run, or a sweep's members in turn): the trainer, and every way it can end as an exit status
(a bad setting or state 2, a refused write 1, a diverged run 3, a signal 128 + its number)."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING, Callable

from masktrainer import sweep
from masktrainer.commands import UsageError
from masktrainer.errors import (
    DIVERGED_EXIT,
    FAILED_EXIT,
    USAGE_EXIT,
    ConfigError,
    DataError,
    RunInterrupted,
    RunStateError,
    RunWriteError,
    WorkerFailed,
    interrupted_exit,
)
from masktrainer.run.resume import resume_command

if TYPE_CHECKING:
    from masktrainer.cli import Command


def run_command(command: Command) -> int:
    """Train (or resume) one run; its exit status."""
    from masktrainer.quiet import import_tensorflow

    import_tensorflow()  # heavy imports only after the command line is known to be good
    from masktrainer.run.monitors import TrainingDiverged
    from masktrainer.run.trainer import Trainer

    trainer = None
    try:
        # Checks the runtime (e.g. --mixed_precision on CPU) and loads the data
        # before anything is written.
        trainer = Trainer(command.cfg, resume_dir=command.resume_dir,
                          resolved_seed=command.resolved_seed,
                          resume_checkpoint=command.resume_checkpoint,
                          invocation=command.invocation)
        trainer.run()
    except (ConfigError, DataError, RunStateError) as err:
        return fail(err, USAGE_EXIT)
    except (RunWriteError, WorkerFailed) as err:
        return fail(err, FAILED_EXIT)
    except TrainingDiverged as err:
        return fail(err, DIVERGED_EXIT)
    except RunInterrupted as err:
        print(f"masktrainer: {err}", file=sys.stderr)
        return interrupted_exit(err.signum)
    except KeyboardInterrupt:  # before the run's handlers, or a second Ctrl-C
        run = getattr(trainer, "run_path", None)
        where = (f"; resume with: {resume_command(run)}" if run is not None
                 else " before the run started; nothing was written")
        print(f"masktrainer: interrupted{where}", file=sys.stderr)
        return interrupted_exit(signal.SIGINT)
    return 0



def fail(err: Exception, status: int) -> int:
    print(f"masktrainer: error: {err}", file=sys.stderr)
    return status


def run_sweep(members: list[Command], decided_again: Callable[[Command], Command]) -> int:
    """Each member of a sweep in turn, under its claim (``decided_again``: the member as its
    folder stands once claimed); a diverged one does not stop the others, anything else does."""
    total, diverged, skipped = len(members), [], []
    todo = sum(1 for m in members if not m.skip)
    print(f"sweep: {total} run(s), {total - todo} finished or elsewhere, {todo} to train")
    for number, member in enumerate(members, 1):
        where = f"sweep {number}/{total} ({member.label})"
        claim = None
        try:  # decided again, and trained, under the member's claim: never twice at once
            claim = None if member.skip else sweep.claim(member.cfg)
            member = member if claim is None else decided_again(member)
        except (RunStateError, RunWriteError, UsageError) as err:
            if claim is not None:
                claim.release()
            return fail(err, USAGE_EXIT)
        if claim is None or member.skip:
            print(f"{where}: {member.skip or 'being trained by another sweep'}; skipped")
            skipped.append((member.label, member.cfg))
            if claim is not None:
                claim.release()
            continue
        print(f"{where}: {f'resuming {member.resume_dir}' if member.resume_dir else 'new run'}")
        try:
            status = run_command(member)
        finally:
            claim.release()
        if status == DIVERGED_EXIT:
            diverged.append(member.label)
        elif status != 0:
            print(f"masktrainer: sweep stopped at {number}/{total} ({member.label}); run the same "
                  "command again to continue it", file=sys.stderr)
            return status
    left = sweep.not_finished(skipped)  # skipped for another process: finished since?
    if diverged:
        print(f"masktrainer: sweep done; diverged: {'; '.join(diverged)}", file=sys.stderr)
    if left:
        print(f"masktrainer: sweep not done: {len(left)} of {total} run(s) not finished "
              f"({'; '.join(left)}); run the same command again to continue", file=sys.stderr)
        return FAILED_EXIT
    if diverged:
        return DIVERGED_EXIT
    print(f"sweep done: {total} run(s)")
    return 0
