"""``python -m runs`` is the ``lunadyn`` command line."""
import sys

from runs.cli import main

sys.exit(main())
