"""Logging for the desktop app: a rotated ``colorizer.log`` in the user's log folder.

Set up once by ``app.main()`` before the window opens (the window itself only
logs), so tests and benches that build an ``App`` choose whether to log to a file.
"""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from typing import Optional

from ..core import paths

LOG_NAME = "colorizer.log"
_handler: Optional[logging.Handler] = None


def log_file() -> Path:
    """Where the app's log is written (shown in Help > About)."""
    return paths.user_log_dir() / LOG_NAME


def setup_logging() -> Path:
    """Log INFO and up to ``colorizer.log`` (2 MB, 3 old copies kept); returns the file.

    Calling it again replaces the handler (the user folders may have moved, as
    they do between tests). Console handlers set up by the CLI keep showing
    warnings only: the file is the place for the chatty lines.
    """
    global _handler
    target = log_file()
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    _handler = logging.handlers.RotatingFileHandler(target, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler) \
                and handler.level == logging.NOTSET:
            handler.setLevel(max(root.level, logging.WARNING))
    _handler.setLevel(logging.INFO)
    root.addHandler(_handler)
    root.setLevel(min(root.level, logging.INFO) if root.level else logging.INFO)
    return target
