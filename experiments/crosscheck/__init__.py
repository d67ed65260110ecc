"""Cross-checks against the published numbers (``python -m experiments.crosscheck``): the
targets of the cross-check (``docs/crosscheck.md``) as library presets, the released LaPerm
checkpoints, and a generated report (``crosscheck.md``, ``crosscheck.csv``)."""
