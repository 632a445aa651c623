"""The ``colorizer`` command line (also ``python -m colorizer_gui``): this module
dispatches; each subcommand is a module of ``colorizer_gui.commands``.

::

    colorizer [PATH...]                      open the window (PATHs pre-loaded)
    colorizer colorize PATH... [-o OUTDIR] [--backend ...] [--device ...] ...
    colorizer repair PATH... [-o OUTDIR] [--sensitivity S] [--save-mask] ...
    colorizer models [list | download zhang | import FILE | set-default FILE | set-default --reset]
    colorizer train DATA_DIR --out MODEL.safetensors ...

Heavy modules (the backends, torch, the GUI, training) are imported only by the
command that needs them, so ``--version`` and ``--help`` answer at once.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Optional, Sequence

from . import __version__

# Exit codes (documented in the README), re-exported for the entry points and tests.
from .commands.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _error  # noqa: F401

COMMANDS = ("colorize", "repair", "models", "train", "info", "gui")

log = logging.getLogger("colorizer_gui.cli")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    _print_safely()
    if "--version" in args[:1] or "-V" in args[:1]:
        print(f"colorizer {__version__}")
        return EXIT_OK
    if "--self-test" in args[:1]:  # headless check of an installed or bundled app
        from .selftest import main as self_test_main

        return self_test_main()
    verbose = 0
    while args and args[0] in ("-v", "--verbose"):
        verbose += 1
        args.pop(0)
    _setup_logging(verbose)
    command = args[0] if args else None
    if command in ("-h", "--help"):
        print(_top_help())
        return EXIT_OK
    try:
        if command == "colorize":
            from .commands.colorize import _cmd_colorize

            return _cmd_colorize(args[1:], verbose)
        if command == "repair":
            from .commands.repair import cmd_repair

            return cmd_repair(args[1:], verbose)
        if command == "models":
            from .commands.models import _cmd_models

            return _cmd_models(args[1:])
        if command == "train":
            return _cmd_train(args[1:])
        if command == "info":
            from .commands.info import _cmd_info

            return _cmd_info(args[1:])
        if command == "gui":
            return _cmd_gui(args[1:])
        return _cmd_gui(args)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _print_safely() -> None:
    """Never crash on a name the terminal cannot show (a folder named in Latin-1
    on a UTF-8 desktop holds undecodable bytes): show them escaped instead."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):  # not a text stream we can change
            pass


def exit_with(code: int) -> None:
    """End the process with ``code``, the way the command-line entry points do.

    After a stop by the user (130) the interpreter's exit hooks are skipped:
    torch's among them take a while, and a further Ctrl+C during them printed a
    traceback (or, once Python has reset its signal handlers, killed the process
    by SIGINT instead of exit 130). Everything worth keeping is written already."""
    if code == EXIT_INTERRUPTED:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)


def console_main() -> None:
    """Entry point of the installed ``colorizer`` command and ``python -m colorizer_gui``."""
    exit_with(main())


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _top_help() -> str:
    return (
        f"colorizer {__version__}: bring black-and-white family photos to colour.\n\n"
        "usage: colorizer [-v] [PATH...]              open the window\n"
        "       colorizer [-v] colorize PATH... [-o OUTDIR] [--repair] [options]\n"
        "       colorizer [-v] repair PATH... [-o OUTDIR] [--sensitivity S] [--save-mask]\n"
        "       colorizer [-v] models [list | download zhang | import FILE | set-default FILE|--reset]\n"
        "       colorizer [-v] train DATA_DIR --out MODEL.safetensors [options]\n"
        "       colorizer info COPY...                   how a colour copy was made (and its original's EXIF)\n"
        "       colorizer --version\n"
        "       colorizer --self-test                colorize a generated picture, print one line\n\n"
        "Run 'colorizer COMMAND --help' for a command's options.\n"
        "Exit codes: 0 all done, 1 some photos failed, 2 usage error or backend "
        "not available, 130 stopped with Ctrl+C."
    )


# --------------------------------------------------------------------------- gui

def _cmd_gui(paths: list[str]) -> int:
    """Open the window, with ``paths`` pre-loaded."""
    for path in paths:
        if path.startswith("-"):
            _error(f"unknown option {path!r}; see 'colorizer --help'")
            return EXIT_USAGE
    hint = "The command line still works: see 'colorizer --help'."
    if (sys.platform.startswith("linux") or "bsd" in sys.platform) and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        _error(f"the window needs a desktop, and there is no display here (DISPLAY is not set). {hint}")
        return EXIT_USAGE
    try:
        from .gui.app import main as gui_main
    except ImportError as err:
        _error(f"the window cannot open: {err}. {hint}")
        return EXIT_USAGE
    code = gui_main(paths)
    return int(code or 0)


# --------------------------------------------------------------------------- train

def _cmd_train(argv: list[str]) -> int:
    try:
        from training.cli import main as train_main
    except ImportError as err:
        _error(f"fine-tuning is not available: {err}")
        return EXIT_USAGE
    return int(train_main(argv) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
