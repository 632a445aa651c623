"""The error of the nets package, in a module of its own so that reading a model file
(``weights_io``) and checking it (``weights_check``) both use it without importing
each other."""
from __future__ import annotations

from ..core.errors import UserError


class WeightsError(UserError, ValueError):
    """A weights file cannot be used; ``str(err)`` is a message for the user."""
