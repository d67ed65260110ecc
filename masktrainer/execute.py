"""Running one parsed train command: the trainer, and every way it can end as an exit status
(a bad setting or state 2, a refused write 1, a diverged run 3, a signal 128 + its number)."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

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
