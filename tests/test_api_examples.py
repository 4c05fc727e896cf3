"""The examples in the docstrings of the public API (the API reference, docs/api.md) run and give what
they say: each function's ``Examples`` section is executed as a doctest."""
import doctest

import pytest

import lunadyn

PUBLIC = ["run", "sweep", "open_store", "compare", "example", "params"]


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_examples_run(name, warm):
    func = getattr(lunadyn, name)
    tests = doctest.DocTestFinder().find(func, name, globs={})
    examples = sum(len(t.examples) for t in tests)
    assert examples > 0, f"lunadyn.{name} has no runnable example in its docstring"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of lunadyn.{name} failed"
