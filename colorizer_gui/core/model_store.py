"""Which model files are installed, where, and which cGAN weights are the default.

Search order for every backend: an explicit ``--weights`` file, then the user's
weights folder (downloads, imports, fine-tuned models), then the read-only
``weights/`` folder shipped with the app. The user's choice of default cGAN
weights is kept in ``models.json`` in the user's config folder.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Optional

from . import paths

CGAN_DEFAULT_NAME = "cgan-default.safetensors"
ZHANG_WEIGHTS_NAME = "colorization_release_v2.caffemodel"
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
    target = _settings_file()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".models-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    os.replace(tmp, target)


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
                if item.suffix in (".safetensors", ".caffemodel") and item.is_file():
                    found.append((label, item))
    return found
