"""Sphinx configuration of lunadyn's documentation (`make docs`).

Pages are MyST Markdown; the notebooks are MyST Markdown notebooks and the gallery scripts jupytext
percent scripts, both executed by myst-nb at every build (a failing cell or assertion fails the build);
the parameter, output, status and record tables are generated from the code by the extension in
``_ext/lunadyn_docs.py``; the API reference is autodoc with numpydoc; the bibliography is
sphinxcontrib-bibtex over ``references.bib``. `make docs` builds with warnings as errors.

Environment: ``LUNADYN_DOCS_EXECUTE`` = ``force`` (default: run every notebook and gallery script),
``cache`` (re-run only what changed since the last build, for writing pages; never in CI) or ``off``.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import lunadyn  # noqa: E402  (the installed package: `make docs` installs it with the docs extra)

project = "lunadyn"
author = "the lunadyn developers"
copyright = "the lunadyn developers"
release = lunadyn.__version__
version = release

extensions = [
    "myst_nb",                      # MyST Markdown pages and executed notebooks (includes myst_parser)
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinxcontrib.bibtex",
    "lunadyn_docs",                 # tables generated from the registry; the {param} and {output} roles
]

source_suffix = {".md": "myst-nb", ".py": "myst-nb"}
# the gallery scripts are jupytext percent scripts (plain Python that also runs with `python SCRIPT`)
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
exclude_patterns = ["_build", "_ext", "_tools", "conf.py", "**/.ipynb_checkpoints", "README.md"]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 3
math_number_all = False

# notebooks: executed at every build, in their own directory, a failing cell fails the build
nb_execution_mode = os.environ.get("LUNADYN_DOCS_EXECUTE", "force")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_cache_path = str(HERE.parent / "build" / "docs-cache")
nb_merge_streams = True

# API reference
autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# bibliography
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

html_theme = "furo"
html_title = f"lunadyn {release}"
html_static_path = []
html_show_sourcelink = True

# warnings are errors (`sphinx-build -W`); nothing is silenced except what cannot be helped:
suppress_warnings = []
