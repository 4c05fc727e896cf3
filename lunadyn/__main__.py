"""``python -m lunadyn`` is the ``lunadyn`` command line."""
import sys

from lunadyn.runs.cli.launch import main

sys.exit(main())
