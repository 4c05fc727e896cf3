"""The serial backend: chunks computed one after the other in this process (the determinism reference)."""
from .protocol import Backend, keeps


class SerialBackend(Backend):
    """In-process backend of the protocol in ``cluster.backends``."""

    name = "serial"

    def __init__(self, **options):
        if options:
            raise TypeError(f"the serial backend takes no options, got {', '.join(options)}")

    def map(self, fn, todo, on_report=None, collect: bool = True) -> list:
        """fn(i) for i in todo, in order; a KeyboardInterrupt or a ``stop`` report stops between chunks.
        The reports (none with ``collect=False``)."""
        reports = []
        for i in todo:
            rep = fn(i)
            if keeps(collect, rep):
                reports.append(rep)
            if on_report is not None:
                on_report(rep)
            if rep.get("stop"):
                break
        return reports

    def each(self, fn):
        """fn() once on every worker process: here, this one."""
        return [fn()]

    def map_items(self, fn, items) -> list:
        """fn(item) for every item, in order (the results in the items' order)."""
        return [fn(x) for x in items]
