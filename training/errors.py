"""The one error type of the training package: its message is meant for the user."""
from __future__ import annotations

from colorizer_gui.core.errors import UserError


class TrainingError(UserError, RuntimeError):
    """Training cannot start or go on; ``str(err)`` says why and what to do."""
