"""Which model files are installed, where, and which cGAN weights are the default.

Search order for every backend: an explicit ``--weights`` file, then the user's
weights folder (downloads, imports, fine-tuned models), then the read-only
``weights/`` folder shipped with the app. The user's choice of default cGAN
weights is kept in ``models.json`` in the user's config folder.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

from . import paths
from .atomic import atomic_write, atomic_write_text
from .errors import UserError
from .filenames import fit_name

CGAN_DEFAULT_NAME = "cgan-default.safetensors"
_SETTINGS_NAME = "models.json"


def weights_search_dirs() -> list[Path]:
    """Folders searched for model files, in order: the user's, then the bundled one."""
    return [paths.user_weights_dir(), paths.bundled_weights_dir()]


def find_weights(file_name: str) -> Optional[Path]:
    """First existing ``file_name`` in the search folders, or None."""
    for folder in weights_search_dirs():
        candidate = folder / file_name
        if candidate.is_file():
            return candidate
    return None


def _settings_file() -> Path:
    return paths.user_config_dir() / _SETTINGS_NAME


def _read_settings() -> dict:
    try:
        return json.loads(_settings_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_settings(data: dict) -> None:
    atomic_write_text(_settings_file(), json.dumps(data, indent=2))


def user_default_cgan_weights() -> Optional[Path]:
    """The cGAN weights the user chose as default (e.g. a fine-tuned model), if it still exists."""
    chosen = _read_settings().get("cgan_default")
    if chosen and Path(chosen).is_file():
        return Path(chosen)
    return None


def set_user_default_cgan_weights(path: Optional[Path]) -> None:
    """Make ``path`` the default cGAN weights (None: back to the bundled default)."""
    data = _read_settings()
    if path is None:
        data.pop("cgan_default", None)
    else:
        data["cgan_default"] = str(Path(path).resolve())
    _write_settings(data)


def cgan_weights_candidates() -> list[Path]:
    """Where the cGAN backend looks when no file is given, in order (for messages)."""
    chosen = user_default_cgan_weights()
    found = [chosen] if chosen else []
    return found + [folder / CGAN_DEFAULT_NAME for folder in weights_search_dirs()]


def resolve_cgan_weights(explicit: Optional[Path] = None) -> Optional[Path]:
    """The cGAN weights to use: explicit file, else the user's default, else the bundled one."""
    if explicit is not None:
        return Path(explicit)
    for candidate in cgan_weights_candidates():
        if candidate.is_file():
            return candidate
    return None


def list_weight_files() -> list[tuple[str, Path]]:
    """(where, path) for every model file in the search folders: 'user' or 'bundled'."""
    found = []
    for label, folder in zip(("user", "bundled"), weights_search_dirs()):
        if folder.is_dir():
            for item in sorted(folder.iterdir()):
                if (item.suffix.lower() in (".safetensors", ".caffemodel") and item.is_file()
                        and not item.name.startswith(".")):
                    found.append((label, item))
    return found


# --- Importing a model file the user picked ---------

_PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt", ".pkl", ".pickle", ".bin", ".tar")


class ModelImportError(UserError, ValueError):
    """A picked model file was refused; the message says why, for the user."""


def _check_safetensors(path: Path) -> None:
    # Opening the header and reading metadata needs no torch and runs no code.
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            handle.metadata()
            if not list(handle.keys()):
                raise ModelImportError(f"{path.name} holds no tensors")
    except ModelImportError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure to parse means a damaged file
        raise ModelImportError(f"{path.name} is not a readable .safetensors file ({err})") from None


def imported_name(src: Path, folder: Path) -> Path:
    """Where an imported ``.safetensors`` file goes: its own name in ``folder``
    (suffix in lower case), never the bundled default's name, and never over a
    different file already there (``-2``, ``-3``, ... instead)."""
    stem = Path(src).stem
    if (stem + ".safetensors").casefold() == CGAN_DEFAULT_NAME.casefold():
        stem += "-imported"  # must never shadow the bundled default
    dest = folder / fit_name(stem, ext=".safetensors")
    counter = 1
    while dest.exists() and not _same_bytes(dest, src):
        counter += 1
        dest = folder / fit_name(stem, f"-{counter}", ".safetensors")
    return dest


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                block = fa.read(1 << 20)
                if block != fb.read(1 << 20):
                    return False
                if not block:
                    return True
    except OSError:
        return False


@dataclass(frozen=True)
class ImportRule:
    """How a backend's own model format (other than .safetensors) is imported: the one
    ``file_name`` it gets in the weights folder, the ``check`` the user's file must pass
    first (raising ``ModelImportError`` or the backend's error), and its ``label``
    for messages. The backend owns these facts; the store only follows them."""

    file_name: str
    check: Callable[[Path], None]
    label: str


def import_model_file(src: Path, verify_safetensors: Optional[Callable[[Path], None]] = None,
                      other_formats: Mapping[str, ImportRule] = {}) -> Path:
    """Copy a model file the user picked into the user weights folder; return the new path.

    Accepts ``.safetensors`` (any case) and the formats of ``other_formats`` (suffix ->
    ``ImportRule``, given by the backend that owns the format); refuses
    everything else, pickle-based files above all. The user's own file is
    checked BEFORE anything is copied (a 2 GB file that is not a model is never
    copied), so messages name it: its header must parse, then
    ``verify_safetensors`` (the full generator check, e.g.
    ``colorizer_gui.backends.cgan.verify_weights``), or the rule's check, must
    pass. The copy goes to a temp file, then is renamed into place. An imported
    generator keeps its own name (``imported_name``); another format gets its rule's
    fixed name, replacing an older one only once the new one is verified.
    """
    src = Path(src)
    suffix = src.suffix.lower()
    also = "".join(f" (and {rule.label})" for rule in other_formats.values())
    if suffix in _PICKLE_SUFFIXES:
        raise ModelImportError(
            f"pickle-based model files can run code when opened; Colorizer only loads .safetensors{also}")
    rule = other_formats.get(suffix)
    if suffix != ".safetensors" and rule is None:
        raise ModelImportError(f"{src.name}: Colorizer only loads .safetensors{also}")
    if not src.is_file():
        raise ModelImportError(f"{src} does not exist")
    before = src.stat()
    if rule is None:
        _check_safetensors(src)
        if verify_safetensors is not None:
            verify_safetensors(src)
    else:
        rule.check(src)
    folder = paths.user_weights_dir()
    dest = folder / rule.file_name if rule is not None else imported_name(src, folder)

    def copy_unchanged(tmp: str) -> None:
        shutil.copyfile(src, tmp)
        after = src.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or \
                Path(tmp).stat().st_size != before.st_size:
            raise ModelImportError(f"{src.name} changed while it was being imported; try again")

    if rule is not None:  # one fixed name: a re-import replaces it
        return atomic_write(dest, copy_unchanged)
    if dest.exists():  # imported before: the very same bytes (imported_name)
        return dest
    # Never over a file, even one that appears while this copy runs.
    return atomic_write(dest, copy_unchanged, overwrite=False)
