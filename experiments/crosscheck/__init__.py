"""Cross-checks against the published numbers (``python -m experiments.crosscheck``): the
targets of ``../shared/reference/CROSSCHECK.md`` as library presets, the released LaPerm
checkpoints, and a generated report (``crosscheck.md``, ``crosscheck.csv``)."""
