"""The serial backend: chunks computed one after the other in this process (the determinism reference)."""
from .protocol import Backend



class SerialBackend(Backend):
    """In-process backend of the protocol in ``cluster.backends``."""

    name = "serial"
    def __init__(self, **options):
        if options:
            raise TypeError(f"the serial backend takes no options, got {', '.join(options)}")

    def map(self, fn, todo, on_report=None) -> list:
        """fn(i) for i in todo, in order; a KeyboardInterrupt stops between chunks."""
        reports = []
        for i in todo:
            rep = fn(i)
            reports.append(rep)
            if on_report is not None:
                on_report(rep)
        return reports

    def each(self, fn):
        """fn() once on every worker process: here, this one."""
        return [fn()]

    def map_items(self, fn, items) -> list:
        """fn(item) for every item, in order (the results in the items' order)."""
        return [fn(x) for x in items]
