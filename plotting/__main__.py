"""Allow ``python -m plotting`` as a shorthand for ``python -m plotting.plotter``."""

import sys

from plotting.plotter import main

sys.exit(main())
