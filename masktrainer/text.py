"""Console formatting shared by the trainer and the recorders."""


def pct(value: float) -> str:
    """A fraction as a percentage with two decimals: 0.1234 -> '12.34%'."""
    return f"{100.0 * value:.2f}%"
