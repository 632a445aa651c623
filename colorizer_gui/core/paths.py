"""Where things live: resources inside the package or PyInstaller bundle, and the
user's own folders (settings, logs, downloaded and fine-tuned models).

The app never writes inside its own install or bundle; all writes go to the
user folders from platformdirs. ``COLORIZER_HOME`` overrides them all (tests use
it to stay out of the real home folder).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "Colorizer"


def _read_umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # at import, before any worker thread exists


def new_file_mode() -> int:
    """The permissions an ordinary new file gets here (0o666 less the umask).

    Files made with ``tempfile.mkstemp`` (for atomic writes) start private
    (0600); models a user exports or imports should be as readable as any of
    their files."""
    return 0o666 & ~_UMASK


def bundle_root() -> Path:
    """The folder that holds ``weights/`` and ``assets/``: the PyInstaller bundle
    when frozen, else the source tree (one level above the package)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parents[2]


def resource_path(*parts: str) -> Path:
    """Path of a read-only resource shipped with the app (``weights/...``, ``assets/...``)."""
    return bundle_root().joinpath(*parts)


def package_data_path(*parts: str) -> Path:
    """Path of a data file inside the ``colorizer_gui`` package itself."""
    return Path(__file__).resolve().parents[1].joinpath(*parts)


def _user_dir(kind: str) -> Path:
    home = os.environ.get("COLORIZER_HOME")
    if home:
        path = Path(home) / kind
    else:
        import platformdirs  # imported here: only needed when a user folder is asked for

        getter = {
            "data": platformdirs.user_data_dir,
            "config": platformdirs.user_config_dir,
            "logs": platformdirs.user_log_dir,
            "cache": platformdirs.user_cache_dir,
        }[kind]
        path = Path(getter(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_data_dir() -> Path:
    """The user's data folder for Colorizer (created if missing)."""
    return _user_dir("data")


def user_weights_dir() -> Path:
    """Where downloaded, imported and fine-tuned model files go (created if missing)."""
    path = user_data_dir() / "weights"
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_runs_dir() -> Path:
    """Where fine-tuning runs keep checkpoints and previews (created if missing)."""
    path = user_data_dir() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_config_dir() -> Path:
    """The user's settings folder (created if missing)."""
    return _user_dir("config")


def user_log_dir() -> Path:
    """The user's log folder (created if missing)."""
    return _user_dir("logs")


def bundled_weights_dir() -> Path:
    """The read-only ``weights/`` folder shipped with the app."""
    return resource_path("weights")


def cli_command() -> list[str]:
    """The command that runs Colorizer's own command line in a new process.

    From source: ``python -m colorizer_gui``. In a PyInstaller bundle the app's
    own executable dispatches like the command line (``Colorizer train ...``);
    on Windows the windowed ``Colorizer.exe`` has no stdout, so its console twin
    ``colorizer-cli.exe`` (built next to it by build.spec) is used when present
    (start it with ``creationflags=subprocess.CREATE_NO_WINDOW`` to hide its console).
    """
    if not getattr(sys, "frozen", False):
        return [sys.executable, "-m", "colorizer_gui"]
    if sys.platform.startswith("win"):
        twin = Path(sys.executable).with_name("colorizer-cli.exe")
        if twin.is_file():
            return [str(twin)]
    return [sys.executable]
