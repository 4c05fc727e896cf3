"""The job-array slice backend: task I of N computes the chunks i with i % N == I, in this process.

``lunadyn sweep SPEC --task-index I --n-tasks N`` in each task of a SLURM/PBS job array; ``lunadyn
submit`` creates the store before the array starts, so the tasks' ``once`` only validates it.
"""
from .errors import ClusterError
from .protocol import one_core_io
from .serial import SerialBackend


class ArraySliceBackend(SerialBackend):
    """Slice ``task_index`` of ``n_tasks`` of the chunk indices, computed serially."""

    name = "array"

    def __init__(self, task_index: int, n_tasks: int):
        if not isinstance(n_tasks, int) or n_tasks < 1:
            raise ClusterError(f"--n-tasks {n_tasks!r}: expected a positive integer")
        if not isinstance(task_index, int) or not 0 <= task_index < n_tasks:
            raise ClusterError(f"--task-index {task_index!r}: expected 0 <= I < --n-tasks {n_tasks}")
        self.task_index, self.n_tasks = task_index, n_tasks
        one_core_io()            # one task per core (cluster.protocol.ONE_CORE_ENV)

    def map(self, fn, todo, on_report=None, collect: bool = True) -> list:
        mine = (i for i in todo if i % self.n_tasks == self.task_index)     # lazily: no list of 10^6
        return super().map(fn, mine, on_report, collect)
