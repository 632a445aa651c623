"""The one error type of the training package: its message is meant for the user."""
from __future__ import annotations


class TrainingError(RuntimeError):
    """Training cannot start or go on; ``str(err)`` says why and what to do."""
