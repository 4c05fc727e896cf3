"""The serial backend: chunks computed one after the other in this process (the determinism reference).

Knows no physics: it calls ``fn(i)`` for each chunk index and hands each small report to ``on_report``.
"""


def map_chunks(fn, todo, on_report=None):
    """Run fn(i) for i in todo in order; a KeyboardInterrupt stops between chunks (finished ones are kept)."""
    reports = []
    for i in todo:
        rep = fn(i)
        reports.append(rep)
        if on_report is not None:
            on_report(rep)
    return reports
