"""``colorizer models``: list, download, import and choose model files."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, _error, _StopOnCtrlC

def _models_parser() -> argparse.ArgumentParser:
    from ..backends import downloadable_backends

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
    from ..backends import DEFAULT_BACKEND, BackendError, backend_names, create_backend
    from ..core import model_store

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

    from ..core.download import DownloadCancelled, DownloadError

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

    from ..backends import BACKENDS, BackendError

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
    from ..backends import BackendError, zhang
    from ..core.model_store import ModelImportError

    try:
        # Checks a .caffemodel with OpenCV too; .safetensors must parse; pickles are refused.
        dest = zhang.import_weights(src)
    except (ModelImportError, BackendError, ValueError, OSError) as err:
        _error(f"cannot import {src}: {err}")
        return EXIT_FAILED
    print(f"Imported {src} as {dest}")
    return EXIT_OK


def _models_set_default(path: Optional[Path]) -> int:
    from ..core import model_store

    if path is None:
        model_store.set_user_default_cgan_weights(None)
        print("The cGAN backend now uses the bundled default weights.")
        return EXIT_OK
    from ..backends.cgan import verify_weights

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
