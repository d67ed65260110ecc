"""Entry point of ``python -m masktrainer``."""

import sys

from masktrainer.cli import main

if __name__ == "__main__":
    sys.exit(main())
