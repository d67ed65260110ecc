"""Run machinery: the trainer, run directories, checkpoints, monitors, runtime, optimisers."""
