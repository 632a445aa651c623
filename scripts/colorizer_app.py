"""Entry point of the double-click app built by ``build.spec`` (PyInstaller).

Everything goes through the command line, so the bundled executable answers
like ``python -m colorizer_gui``: no arguments open the window, ``--self-test``
runs the headless self-test, ``train ...`` runs fine-tuning (the window starts
it as ``[sys.executable, "train", ...]``) and ``colorize`` / ``models`` work as
documented.
"""
from __future__ import annotations

import multiprocessing
import os
import sys


def _give_windowed_app_streams() -> None:
    """A windowed app (Windows, macOS) has no console: sys.stdout/stderr are None
    there, and a stray print would crash it. Send them to a log file instead."""
    if sys.stdout is not None and sys.stderr is not None:
        return
    try:
        from colorizer_gui.core.paths import user_log_dir

        stream = open(user_log_dir() / "app-output.log", "a", encoding="utf-8", buffering=1)
    except OSError:
        stream = open(os.devnull, "w", encoding="utf-8")
    sys.stdout = sys.stdout or stream
    sys.stderr = sys.stderr or stream


def main() -> int:
    """Dispatch to the Colorizer command line; return its exit code."""
    # A frozen app re-runs itself for spawned worker processes (DataLoader
    # workers on Windows and macOS); this returns at once in the parent.
    multiprocessing.freeze_support()
    _give_windowed_app_streams()
    # macOS Finder used to pass a process serial number; it is no photo.
    args = [a for a in sys.argv[1:] if not a.startswith("-psn_")]
    if not getattr(sys, "frozen", False):  # run from a source tree: find the package
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from colorizer_gui.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    code = main()  # first: it puts the source tree on sys.path when not frozen
    from colorizer_gui.cli import exit_with

    exit_with(code)
