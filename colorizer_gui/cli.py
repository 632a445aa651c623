"""The ``colorizer`` command line (also ``python -m colorizer_gui``).

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

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Optional, Sequence

from . import __version__

# Exit codes: documented in the README.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

COMMANDS = ("colorize", "repair", "models", "train", "info", "gui")
#: The saturation factors ``--saturation`` accepts (the window's slider goes to 2).
SATURATION_RANGE = (0.0, 5.0)
#: The largest ``--render-size`` (a network at 8192 px needs tens of GB).
MAX_RENDER_SIZE = 8192

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
            return _cmd_colorize(args[1:], verbose)
        if command == "repair":
            from .cli_repair import cmd_repair

            return cmd_repair(args[1:], verbose)
        if command == "models":
            return _cmd_models(args[1:])
        if command == "train":
            return _cmd_train(args[1:])
        if command == "info":
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


def _shown(path: object) -> str:
    """A path as the user should read it: a name in another encoding keeps its letters."""
    from .core.photo import display_name

    return display_name(str(path))


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


def _error(message: str) -> None:
    print(f"colorizer: error: {message}", file=sys.stderr)


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


# --------------------------------------------------------------------------- colorize

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
                        help="vividness of zhang and of cgan models that predict colour classes: "
                             "the annealed-mean temperature, 0.05-1 (lower: more vivid)")
    parser.add_argument("--skip-existing", action="store_true",
                        help="skip photos whose own colour copy (written by Colorizer from this "
                             "photo) is already in the output folder")
    parser.add_argument("--no-recolour", "--no-recolor", dest="recolour", action="store_false",
                        help="skip photos that are already in colour (default: colorize them too)")
    hints = parser.add_mutually_exclusive_group()
    hints.add_argument("--hints", type=Path, default=None, metavar="FILE.json",
                       help="colour hints for the one photo given (the README has the format); "
                            "without it, each photo's <name>.colorizer.json sidecar is used")
    hints.add_argument("--no-hints", action="store_true",
                       help="ignore hint sidecar files")
    from .cli_repair import add_repair_options

    add_repair_options(parser, in_colorize=True)
    return parser


def _quit_now(_signum: int = 0, _frame: object = None) -> None:
    """End the process at once with exit code 130 and no traceback.

    Used for a second Ctrl+C (or SIGTERM), and for any that comes while the
    process is already ending. ``os._exit`` skips the interpreter's exit hooks,
    which would otherwise be interrupted mid-way and print a traceback (torch's
    among them). Nothing is lost: outputs are written to temp files and renamed,
    and the next run deletes temp files a stopped run left."""
    try:
        print("\nStopped.", file=sys.stderr, flush=True)
        sys.stdout.flush()
    finally:
        os._exit(EXIT_INTERRUPTED)


class _StopOnCtrlC:
    """First Ctrl+C (or SIGTERM, as at logout or shutdown): finish the current
    photo and stop. A second one: quit at once (``_quit_now``)."""

    _SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "_StopOnCtrlC":
        if threading.current_thread() is threading.main_thread():
            for signum in self._SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for signum, previous in self._previous.items():
            # Once a stop was asked for, the process is on its way out: another
            # signal while it ends must not interrupt the exit hooks.
            signal.signal(signum, _quit_now if self.requested else previous)  # type: ignore[arg-type]

    def _handle(self, _signum: int, _frame: object) -> None:
        if self.requested:
            _quit_now()
        self.requested = True
        print("\nStopping after the current photo; a video being colorized is dropped "
              "(press Ctrl+C again to quit at once)...",
              file=sys.stderr, flush=True)

    def __call__(self) -> bool:
        return self.requested


def video_progress_text(event) -> str:  # type: ignore[no-untyped-def]
    """'clip.mp4 frame 120/900, 8.5 fps, 1 min 32 s left' for a "frames" progress event."""
    from .core.text import format_duration

    text = f"{event.current[-30:]} frame {event.done}/{event.total}"
    fps = event.metrics.get("fps")
    if fps:
        text += f", {fps:.1f} fps"
    if event.eta_s is not None and event.done < event.total:
        text += f", {format_duration(event.eta_s)} left"
    return text


def _short_message(src: Path, message: str) -> str:
    """Drop the file name a PhotoError message starts with: the line already names the path."""
    prefix = f"{src.name}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _cmd_colorize(argv: list[str], verbose: int) -> int:
    from .backends import DEFAULT_BACKEND, BackendError, backend_names, create_backend
    from .cli_repair import DetectorUnavailable, repair_detector, repair_settings
    from .core.batch import HintSource, run_batch

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

    from tqdm import tqdm

    bar = tqdm(total=0, unit="photo", file=sys.stderr, disable=not sys.stderr.isatty(),
               dynamic_ncols=True)

    def on_progress(event) -> None:  # type: ignore[no-untyped-def]
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
            result = run_batch(opts.paths, opts.out, backend, render_size=opts.render_size,
                               saturation=opts.saturation, skip_existing=opts.skip_existing,
                               recolour=opts.recolour, on_progress=on_progress, should_stop=stop,
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


# --------------------------------------------------------------------------- info

def _cmd_info(argv: list[str]) -> int:
    """Print how each colour copy was made, and the original's EXIF it carries."""
    parser = argparse.ArgumentParser(
        prog="colorizer info",
        description="Show what a colour copy records about itself: that Colorizer made it, the "
                    "version, backend, model file and its hash, the settings, the number of colour "
                    "hints, and the original photo's EXIF (dates, camera, caption).")
    parser.add_argument("files", nargs="+", type=Path, metavar="COPY")
    opts = parser.parse_args(argv)
    from .core.provenance import read_provenance

    code = EXIT_OK
    labels = {"Version": "version", "Repaired": "repair", "Backend": "backend", "Model": "model file", "ModelSHA256": "model SHA-256",
              "Settings": "settings", "Hints": "colour hints", "Source": "from", "Page": "page",
              "Date": "made on"}
    for path in opts.files:
        try:
            found = read_provenance(path)
        except Exception as err:  # noqa: BLE001 - one unreadable file, a clear line
            _error(f"{_shown(path)}: cannot be read ({err})")
            code = EXIT_FAILED
            continue
        ours, exif = found["colorizer"], found["exif"]
        print(f"{_shown(path)}:")
        if ours:
            if ours.get("Colourised", "True") != "False":
                print("  Colourised by Colorizer (the colours are predicted, not the original's)")
            if ours.get("Repaired"):
                print("  Repaired by Colorizer (scratches, dust and creases painted out)")
            for key, label in labels.items():
                if ours.get(key):
                    print(f"  {label + ':':<15}{ours[key]}")
        else:
            print("  no Colorizer record: not a colour copy Colorizer made (or its metadata was removed)")
            code = EXIT_FAILED
        for key, value in exif.items():
            print(f"  {'EXIF ' + key + ':':<24}{value}")
    return code


# --------------------------------------------------------------------------- models

def _models_parser() -> argparse.ArgumentParser:
    from .backends import downloadable_backends

    parser = argparse.ArgumentParser(prog="colorizer models",
                                     description="List, download, import and choose model files.")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("list", help="list backends, whether they can run, and the model files found (default)")
    download = sub.add_parser("download", help="download official model files (with a progress bar)")
    download.add_argument("what", choices=downloadable_backends(), help="which model to download")
    imp = sub.add_parser("import", help="copy a model file you have into your weights folder")
    imp.add_argument("file", type=Path, metavar="FILE")
    default = sub.add_parser("set-default", help="choose the cGAN weights used by default")
    group = default.add_mutually_exclusive_group(required=True)
    group.add_argument("file", type=Path, nargs="?", metavar="FILE")
    group.add_argument("--reset", action="store_true", help="go back to the bundled default")
    return parser


def _cmd_models(argv: list[str]) -> int:
    opts = _models_parser().parse_args(argv)
    if opts.action in (None, "list"):
        return _models_list()
    if opts.action == "download":
        return _models_download(opts.what)
    if opts.action == "import":
        return _models_import(opts.file)
    return _models_set_default(None if opts.reset else opts.file)


def _models_list() -> int:
    from .backends import DEFAULT_BACKEND, BackendError, backend_names, create_backend
    from .core import model_store

    print("Backends:")
    for name in backend_names():
        try:
            backend = create_backend(name)
            availability = backend.availability()
            title = backend.title or name
        except BackendError as err:
            availability, title = None, name
            reason = str(err)
        mark = " (default)" if name == DEFAULT_BACKEND else ""
        if availability is not None and availability.ok:
            print(f"  {name:<6} {title}{mark}: available")
        else:
            reason = availability.reason if availability is not None else reason
            print(f"  {name:<6} {title}{mark}: not available: {reason}")
    print("Model files:")
    files = model_store.list_weight_files()
    chosen = model_store.user_default_cgan_weights()
    for where, path in files:
        size_mb = path.stat().st_size / 1e6
        mark = "  [cgan default]" if chosen is not None and path.resolve() == chosen.resolve() else ""
        print(f"  {where:<7} {path} ({size_mb:.1f} MB){mark}")
    if chosen is not None and all(chosen.resolve() != p.resolve() for _w, p in files):
        print(f"  chosen  {chosen}  [cgan default]")
    if not files and chosen is None:
        print("  (none found)")
    print("Searched: " + ", ".join(str(p) for p in model_store.weights_search_dirs()))
    return EXIT_OK


def _models_download(what: str) -> int:
    from tqdm import tqdm

    from .core.download import DownloadCancelled, DownloadError

    bars: dict[str, tqdm] = {}

    def on_progress(event) -> None:  # type: ignore[no-untyped-def]
        bar = bars.get(event.current)
        if bar is None:
            for old in bars.values():
                old.close()
            bar = bars[event.current] = tqdm(total=event.total or None, unit="B", unit_scale=True,
                                             unit_divisor=1024, desc=event.current or what,
                                             file=sys.stderr, disable=not sys.stderr.isatty())
        if event.total and bar.total != event.total:
            bar.total = event.total
        bar.n = event.done
        bar.refresh()

    from .backends import BACKENDS, BackendError

    with _StopOnCtrlC() as stop:
        try:
            # Each source in turn: size, SHA-256 and a load check before anything is installed.
            path = BACKENDS[what].download_weights(on_progress=on_progress, should_stop=stop)
        except DownloadCancelled:
            print("Download stopped; the part already fetched is kept: run the same command "
                  "again to resume.", file=sys.stderr)
            return EXIT_INTERRUPTED
        except (DownloadError, BackendError) as err:
            _error(f"download failed: {err}")
            return EXIT_FAILED
        finally:
            for bar in bars.values():
                bar.close()
    print(f"Downloaded and verified: {path}")
    return EXIT_OK


def _models_import(src: Path) -> int:
    from .backends import BackendError, zhang
    from .core.model_store import ModelImportError

    try:
        # Checks a .caffemodel with OpenCV too; .safetensors must parse; pickles are refused.
        dest = zhang.import_weights(src)
    except (ModelImportError, BackendError, ValueError, OSError) as err:
        _error(f"cannot import {src}: {err}")
        return EXIT_FAILED
    print(f"Imported {src} as {dest}")
    return EXIT_OK


def _models_set_default(path: Optional[Path]) -> int:
    from .core import model_store

    if path is None:
        model_store.set_user_default_cgan_weights(None)
        print("The cGAN backend now uses the bundled default weights.")
        return EXIT_OK
    from .backends.cgan import verify_weights

    if not path.is_file():
        _error(f"{path} does not exist")
        return EXIT_FAILED
    try:  # every check the cgan backend makes at load, before the choice is saved
        verify_weights(path)
    except (ValueError, OSError) as err:
        _error(f"{path} cannot be used by the cgan backend: {err}")
        return EXIT_FAILED
    model_store.set_user_default_cgan_weights(path)
    print(f"The cGAN backend now uses {path.resolve()} by default.")
    return EXIT_OK


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
