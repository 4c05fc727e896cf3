"""``python -m lunadyn`` is the ``lunadyn`` command line."""
import sys

from lunadyn.runs.cli.main import main

sys.exit(main())
