"""The one base of the errors whose message is meant for a person.

Code that reports an error to the user (the batch engine, the CLI, the GUI's
workers) shows ``str(err)`` of a ``UserError`` as it is and logs no traceback;
anything else is unexpected. Each error keeps its own more specific base too
(``ValueError``, ``RuntimeError``) where callers catch those.
"""
from __future__ import annotations


class UserError(Exception):
    """Something the user can understand and act on; ``str(err)`` says what and why."""


__all__ = ["UserError"]
