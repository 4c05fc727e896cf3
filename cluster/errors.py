"""The error type of the execution layer: a bad backend name, job option or cluster section.

``cluster`` never imports ``runs`` (DESIGN.md), so it has its own exception; the command line reports
it like a user error: one line, exit status 2.
"""


class ClusterError(Exception):
    """A mistake in how a sweep is to run (backend, job options, [cluster] section); one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
