"""``colorizer colorize PATH...``: photos, videos and folders to colour copies."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _error, _short_message, _shown, _StopOnCtrlC

#: The saturation factors ``--saturation`` accepts (the window's slider goes to 2).
SATURATION_RANGE = (0.0, 5.0)
#: The largest ``--render-size`` (a network at 8192 px needs tens of GB).
MAX_RENDER_SIZE = 8192

log = logging.getLogger("colorizer_gui.cli")

def _render_size(text: str) -> int:
    allowed = f"a whole number from 32 to {MAX_RENDER_SIZE} (cgan: a multiple of 32)"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {allowed}, not {text!r}") from None
    if not 32 <= value <= MAX_RENDER_SIZE:
        raise argparse.ArgumentTypeError(f"must be {allowed}, not {text}")
    return value


def _saturation(text: str) -> float:
    low, high = SATURATION_RANGE
    allowed = f"a number from {low:g} (gray) to {high:g} (1 = as predicted)"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {allowed}, not {text!r}") from None
    if not low <= value <= high:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be {allowed}, not {text}")
    return value


def _colorize_parser(backend_choices: list[str], default_backend: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colorizer colorize",
        description="Colorize photos, videos and folders of them (folders are searched recursively). "
                    "Writes <name>_color.<ext> copies (videos: <name>_color.mp4, with the sound "
                    "copied and steady colour from frame to frame); the originals are never changed.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos, videos or folders")
    parser.add_argument("-o", "--out", type=Path, default=None, metavar="OUTDIR",
                        help="output folder (default: a 'colorized' folder beside each photo); "
                             "sub-folders of a folder input are mirrored inside it")
    parser.add_argument("--backend", choices=backend_choices, default=default_backend,
                        help=f"colorization backend (default: {default_backend})")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where the cgan backend runs (default: auto = CUDA if present)")
    parser.add_argument("--weights", type=Path, default=None, metavar="FILE",
                        help="model file to use instead of the installed default")
    parser.add_argument("--render-size", type=_render_size, default=None, metavar="N",
                        help=f"size the backend works at, 32-{MAX_RENDER_SIZE}; cgan: a multiple of 32 "
                             "(default: the backend's own)")
    parser.add_argument("--saturation", type=_saturation, default=1.0, metavar="F",
                        help=f"colour strength from {SATURATION_RANGE[0]:g} to {SATURATION_RANGE[1]:g}: "
                             "1 as predicted, 0 gray, >1 stronger (default 1)")
    parser.add_argument("--temperature", type=float, default=None, metavar="T",
                        help="zhang only: vividness, the annealed-mean temperature, 0.05-1 "
                             "(lower: more vivid); other backends say it is ignored")
    parser.add_argument("--skip-existing", action="store_true",
                        help="skip photos whose own colour copy (written by Colorizer from this "
                             "photo) is already in the output folder")
    parser.add_argument("--no-recolor", dest="recolor", action="store_false",
                        help="skip photos that are already in colour (default: colorize them too)")
    # The British spelling still works, unlisted.
    parser.add_argument("--no-recolour", dest="recolor", action="store_false", help=argparse.SUPPRESS)
    hints = parser.add_mutually_exclusive_group()
    hints.add_argument("--hints", type=Path, default=None, metavar="FILE.json",
                       help="colour hints for the one photo given (the README has the format); "
                            "without it, each photo's <name>.colorizer.json sidecar is used")
    hints.add_argument("--no-hints", action="store_true",
                       help="ignore hint sidecar files")
    from .repair import add_repair_options

    add_repair_options(parser, in_colorize=True)
    return parser


def video_progress_text(event) -> str:  # type: ignore[no-untyped-def]
    """'clip.mp4 frame 120/900, 8.5 fps, 1 min 32 s left' for a "frames" progress event."""
    from ..core.text import format_duration

    text = f"{event.current[-30:]} frame {event.done}/{event.total}"
    fps = event.metrics.get("fps")
    if fps:
        text += f", {fps:.1f} fps"
    if event.eta_s is not None and event.done < event.total:
        text += f", {format_duration(event.eta_s)} left"
    return text



def _temperature_ignored(backend: str) -> str:
    """The one line saying ``--temperature`` does nothing with this backend."""
    return f"NOTE: --temperature is ignored: only the zhang backend has a temperature, not {backend}"

def _cmd_colorize(argv: list[str], verbose: int) -> int:
    from ..backends import DEFAULT_BACKEND, BackendError, backend_names, create_backend
    from ..core.batch import HintSource
    from ..core.cpu_retry import run_batch_with_cpu_retry
    from .repair import DetectorUnavailable, repair_detector, repair_settings

    parser = _colorize_parser(backend_names(), DEFAULT_BACKEND)
    opts = parser.parse_args(argv)
    if opts.save_mask and not opts.repair:
        parser.error("--save-mask needs --repair")
    try:
        detector = repair_detector(opts) if opts.repair else None
    except DetectorUnavailable as err:
        _error(str(err))
        return EXIT_USAGE
    options = {}
    if opts.temperature is not None:
        if not 0.05 <= opts.temperature <= 1.0:
            parser.error(f"--temperature must be from 0.05 to 1 (got {opts.temperature})")
        options["temperature"] = opts.temperature
    if opts.weights is not None and not opts.weights.is_file():
        _error(f"the weights file {opts.weights} does not exist")
        return EXIT_USAGE
    if opts.hints is not None and (len(opts.paths) != 1 or opts.paths[0].is_dir()):
        parser.error("--hints is for one photo; for many, put a <name>.colorizer.json beside each")
    if opts.hints is not None and not opts.hints.is_file():
        _error(f"the hints file {opts.hints} does not exist")
        return EXIT_USAGE
    hint_source = HintSource(file=opts.hints, sidecars=not opts.no_hints)
    try:
        backend = create_backend(opts.backend, weights=opts.weights, device=opts.device, **options)
        if opts.render_size is not None:  # the backend's own rule (cgan: multiples of 32), before any work
            try:
                backend.render_shape(4096, 4096, opts.render_size)
            except BackendError as err:
                parser.error(f"argument --render-size: {err}")
        availability = backend.availability()
        if not availability.ok:
            _error(f"the {opts.backend} backend is not available: {availability.reason}")
            return EXIT_USAGE
        backend.load()  # once, before the first photo
    except (BackendError, ValueError) as err:
        _error(f"the {opts.backend} backend cannot start: {err}")
        return EXIT_USAGE
    log.info("backend: %s", backend.describe())
    if opts.temperature is not None and not backend.uses_temperature():
        print(_temperature_ignored(opts.backend), file=sys.stderr)

    from tqdm import tqdm

    bar = tqdm(total=0, unit="photo", file=sys.stderr, disable=not sys.stderr.isatty(),
               dynamic_ncols=True)

    def on_progress(event) -> None:  # type: ignore[no-untyped-def]
        if isinstance(event, str):  # a note between the tries (core.cpu_retry)
            bar.write(event, file=sys.stderr)
            return
        if event.stage == "frames":  # inside a video: frames, speed and time left
            bar.set_postfix_str(video_progress_text(event), refresh=True)
            return
        if bar.total != event.total:
            bar.reset(total=event.total)
        bar.n = event.done
        bar.set_postfix_str(event.current[-40:], refresh=False)
        bar.refresh()

    with _StopOnCtrlC() as stop:
        try:
            # Out of graphics-card memory: those photos again on the CPU, as in the window.
            on_cpu = None if getattr(backend, "loaded_device", opts.device) == "cpu" else (
                lambda: _loaded(create_backend(opts.backend, weights=opts.weights, device="cpu", **options)))
            result = run_batch_with_cpu_retry(
                opts.paths, opts.out, backend, on_cpu, render_size=opts.render_size,
                saturation=opts.saturation, skip_existing=opts.skip_existing,
                recolor=opts.recolor, on_progress=on_progress, should_stop=stop,
                hint_source=hint_source, repair=repair_settings(opts),
                save_damage_mask=opts.save_mask, repair_detector=detector)
        except BackendError as err:
            bar.close()
            _error(str(err))
            return EXIT_USAGE
        finally:
            bar.close()

    for src, message in result.failed:
        print(f"FAILED {_shown(src)}: {_short_message(src, message)}", file=sys.stderr)
    for src, reason in result.skipped:
        # Formats Colorizer cannot read are named always; the rest with -v.
        if verbose or reason.startswith("this format is not supported"):
            print(f"SKIPPED {_shown(src)}: {reason}", file=sys.stderr)
    for src, note in result.notes:
        print(f"NOTE {_shown(src)}: {note}", file=sys.stderr)
    if verbose:
        for src in result.left_out:
            print(f"left out {_shown(src)}: a colour copy Colorizer made earlier", file=sys.stderr)
        for src, dest in result.done:
            print(f"{_shown(src)} -> {_shown(dest)}", file=sys.stderr)
    print(result.summary())
    if result.cancelled:
        return EXIT_INTERRUPTED
    if result.failed or result.total == 0:
        return EXIT_FAILED
    return EXIT_OK


def _loaded(backend):  # type: ignore[no-untyped-def]
    """``backend``, loaded (a CPU copy is made only when the card runs out of memory)."""
    backend.load()
    return backend
