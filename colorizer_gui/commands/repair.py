"""The ``repair`` command (``colorizer repair PATH... -o OUTDIR``) and the repair
options ``colorize`` shares with it (``--repair``, ``--sensitivity``, ``--save-mask``).

Repairs paint out scratches, dust, hairs and creases (``core.repair``) and write
``<name>_repaired.<ext>`` copies; the originals are never changed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from ..core.repair import DEFAULT_SENSITIVITY, Detector, RepairSettings
from ..nets.detector_choice import DETECTOR_CHOICES, DetectorUnavailable, choose_detector  # noqa: F401



def _sensitivity(text: str) -> float:
    allowed = "a number from 0 (only the clearest marks) to 1 (heavily damaged scans)"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {allowed}, not {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be {allowed}, not {text}")
    return value


def add_repair_options(parser: argparse.ArgumentParser, in_colorize: bool) -> None:
    """The repair options; ``in_colorize`` adds ``--repair`` (repair before colouring)."""
    if in_colorize:
        parser.add_argument("--repair", action="store_true",
                            help="paint out scratches, dust, hairs and creases before colouring "
                                 "(photos; videos are colorized without repair)")
    parser.add_argument("--sensitivity", type=_sensitivity, default=DEFAULT_SENSITIVITY, metavar="S",
                        help=f"how much damage repair looks for, 0-1 (default {DEFAULT_SENSITIVITY:g}; "
                             "higher for heavily damaged scans)")
    parser.add_argument("--restore-contrast", action="store_true",
                        help="also stretch the contrast of faded prints (levels and CLAHE on the lightness)")
    parser.add_argument("--detector", choices=DETECTOR_CHOICES, default="auto",
                        help="how damage is found: the learned detector (a small network), the "
                             "classical filters, or auto (default: the learned one when PyTorch and "
                             "its model file are installed, else classical)")
    parser.add_argument("--save-mask", action="store_true",
                        help="write the damage mask (<copy>_mask.png, white = painted out) beside each copy")


def repair_detector(opts: argparse.Namespace) -> Optional[Detector]:
    """The detector asked for (None: the classical one, the core's default)."""
    return choose_detector(getattr(opts, "detector", "auto"))


def repair_settings(opts: argparse.Namespace) -> Optional[RepairSettings]:
    """The repair asked for on the command line (None: no repair)."""
    if not getattr(opts, "repair", True):
        return None
    return RepairSettings(sensitivity=opts.sensitivity, restore_contrast=opts.restore_contrast)


def _repair_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colorizer repair",
        description="Repair damaged prints: find scratches, dust specks, hairs and creases and paint "
                    "them out, keeping the film grain. Writes <name>_repaired.<ext> copies (same size, "
                    "format, EXIF and colour profile; the copy records that it was repaired); the "
                    "originals are never changed. Brush strokes saved in the window are used.")
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos or folders")
    parser.add_argument("-o", "--out", type=Path, default=None, metavar="OUTDIR",
                        help="output folder (default: a 'repaired' folder beside each photo); "
                             "sub-folders of a folder input are mirrored inside it")
    parser.add_argument("--no-brush", action="store_true",
                        help="ignore the repair brush strokes saved for each photo")
    add_repair_options(parser, in_colorize=False)
    return parser


def cmd_repair(argv: list[str], verbose: int) -> int:
    """Run ``colorizer repair``; return the exit code."""
    from tqdm import tqdm

    from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _error, _shown, _short_message, _StopOnCtrlC
    from ..core.repair.batch import VIDEO_NOT_SUPPORTED, run_repair_batch

    opts = _repair_parser().parse_args(argv)
    settings = repair_settings(opts)
    assert settings is not None
    try:
        detector = repair_detector(opts)
    except DetectorUnavailable as err:
        _error(str(err))
        return EXIT_USAGE
    bar = tqdm(total=0, unit="photo", file=sys.stderr, disable=not sys.stderr.isatty(), dynamic_ncols=True)

    def on_progress(event) -> None:  # type: ignore[no-untyped-def]
        if bar.total != event.total:
            bar.reset(total=event.total)
        bar.n = event.done
        bar.set_postfix_str(event.current[-40:], refresh=False)
        bar.refresh()

    with _StopOnCtrlC() as stop:
        try:
            result = run_repair_batch(opts.paths, opts.out, settings, save_damage_mask=opts.save_mask,
                                      on_progress=on_progress, should_stop=stop, use_edits=not opts.no_brush,
                                      detector=detector)
        finally:
            bar.close()
    for src, message in result.failed:
        print(f"FAILED {_shown(src)}: {_short_message(src, message)}", file=sys.stderr)
    for src, reason in result.skipped:
        if verbose or reason.startswith("this format is not supported") or reason == VIDEO_NOT_SUPPORTED:
            print(f"SKIPPED {_shown(src)}: {reason}", file=sys.stderr)
    for src, note in result.notes:
        print(f"NOTE {_shown(src)}: {note}", file=sys.stderr)
    if verbose:
        for src, dest in result.done:
            print(f"{_shown(src)} -> {_shown(dest)}", file=sys.stderr)
    print(result.summary())
    if result.cancelled:
        return EXIT_INTERRUPTED
    if result.failed or result.total == 0:
        return EXIT_FAILED
    return EXIT_OK
