"""The one exception type for user errors (a bad scenario, a foreign store, a missing file).

The command line prints ``lunadyn: error: <message>`` and exits with status 2 for these, never a
traceback; the message is therefore always one line naming what, which field or file, and what was
expected.
"""


class UserError(Exception):
    """An error the user can fix; ``str(err)`` is one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
