"""The Models menu and which colorization methods can run.

``ModelsMenu`` knows the backends' availability (checked in a worker at start and
after every model change: a check may open model files, so it stays off the event
loop), picks the method to use, and runs the menu's actions: list the installed
models, download Zhang's model, import a model file, choose the default cGAN model.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import PySimpleGUI as sg

from ..backends import DEFAULT_BACKEND, backend_names, has_temperature
from ..core import model_store, paths
from ..core.text import format_eta
from . import events as ev, workers
from .backend_cache import BACKENDS, BackendConfig

if TYPE_CHECKING:
    from .shell import Shell

CHECKING_TEXT = "Checking which methods can run..."
READY_COLOR, NOT_READY_COLOR, CHECKING_COLOR = "#1b5e20", "#b71c1c", "#444444"


def choose_backend(status: dict[str, tuple[bool, str]], preferred: str = "") -> str:
    """The user's choice if it can run, else the first in the registry's order that
    can, else the default backend (whose reason the controls then show)."""
    if preferred in status and status[preferred][0]:
        return preferred
    order = backend_names()
    for name in order:
        if status.get(name, (False, ""))[0]:
            return name
    return DEFAULT_BACKEND if DEFAULT_BACKEND in status else next(iter(status), "")


def backend_config(settings: Any) -> BackendConfig:
    """The backend settings chosen in the controls."""
    render = None if settings.render_size == "auto" else int(settings.render_size)
    temperature = settings.temperature if has_temperature(settings.backend) else None
    return BackendConfig(settings.backend, settings.device, temperature, render, settings.saturation)


class ModelsMenu:
    """Backend availability and the Models menu of one app window."""

    def __init__(self, app: "Shell") -> None:
        self.app = app
        self.backends: dict[str, tuple[bool, str]] = {}  # name -> (can run, why or what it uses)
        self.checking = False

    # ---------------------------------------------------------- availability

    def check(self) -> None:
        """Find out (in a worker) which methods can run; the controls say
        "checking" until the answer arrives (``on_checked``)."""
        self.checking = True
        self.app.window[ev.K_BACKEND_WHY].update(CHECKING_TEXT, text_color=CHECKING_COLOR)
        self.app.start_job(ev.CHECK, workers.backend_status)

    def on_checked(self, phase: str, found: Any) -> None:
        """The availability check finished: choose the method and refresh the preview."""
        if phase not in ev.ENDINGS:
            return
        self.checking = False
        if phase == ev.DONE:
            self.backends = found
        elif phase == ev.ERROR:
            self.app.set_status(f"Could not check the colorization methods: {found}")
        settings = self.app.settings
        settings.backend = choose_backend(self.backends, settings.backend)
        names = list(self.backends) or workers.registered_backends()
        self.app.window[ev.K_BACKEND].update(value=settings.backend, values=names)
        self.show_reason()
        self.app.preview.restart()
        self.app.colorizing.start_pending()

    def can_run(self, name: str = "") -> tuple[bool, str]:
        """(can run, why not or what it will use) for ``name`` (default: the chosen method)."""
        return self.backends.get(name or self.app.settings.backend, (False, ""))

    def models_changed(self) -> None:
        """A model was installed or the default changed: drop loaded models and check again."""
        BACKENDS.clear()
        self.check()

    def show_reason(self) -> None:
        """Say under the method's name whether it can run, and why not."""
        name = self.app.settings.backend
        self.app.window[ev.K_TEMPERATURE].update(disabled=not has_temperature(name))
        if self.checking:
            self.app.window[ev.K_BACKEND_WHY].update(CHECKING_TEXT, text_color=CHECKING_COLOR)
            return
        ok, reason = self.backends.get(name, (False, "unknown method"))
        if ok:
            text = f"Ready: {reason}"
        elif not any(v[0] for v in self.backends.values()):
            text = ("No colorization model is installed yet. Use Models > Download Zhang model, "
                    "or Models > Import model file.")
        else:
            text = f"Not available: {reason}"
        self.app.window[ev.K_BACKEND_WHY].update(text, text_color=READY_COLOR if ok else NOT_READY_COLOR)

    def on_device_found(self, phase: str, info: Any) -> None:
        """PyTorch is loaded (``workers.warmup``): say which device will be used."""
        window = self.app.window
        if phase != ev.DONE:
            window[ev.K_DEVICE_FOUND].update("Could not check for a graphics card (see the log).")
            return
        self.app.device_info = info
        if info.get("error"):
            text = info["error"]
        elif info.get("cuda"):
            text = f"Graphics card found: {info['gpu']} (CUDA)."
        else:
            text = "No CUDA graphics card: using the CPU."
        window[ev.K_DEVICE_FOUND].update(text)

    # ------------------------------------------------------------ menu items

    def show_models(self) -> None:
        """What is installed, where, and which cGAN model is the default."""
        lines = ["Methods:"] + ([f"  {CHECKING_TEXT}"] if self.checking else [])
        for name, (ok, reason) in self.backends.items():
            lines.append(f"  {name}: {'ready' if ok else 'not available'} - {reason}")
        lines.append("\nModel files:")
        files = model_store.list_weight_files()
        lines += [f"  [{where}] {path}" for where, path in files] or ["  none yet"]
        lines.append(f"\nDefault cGAN model: {model_store.resolve_cgan_weights() or 'none'}")
        lines.append(f"Your models folder: {paths.user_weights_dir()}")
        self.app.dialogs.with_folder_button("Installed models", [[sg.Multiline("\n".join(lines), size=(90, 16),
                                                                               disabled=True)]],
                                            "Open models folder", paths.user_weights_dir, button_left=True)

    def download_zhang(self) -> None:
        """Download and verify the Zhang model (progress in the main progress bar; Cancel stops it)."""
        if self.app.busy():
            self.app.set_status("Wait for the current job to finish (or Cancel it) first.")
            return
        self.app.set_status("Downloading the Zhang model (about 129 MB)...")
        self.app.start_job(ev.DOWNLOAD, workers.download_zhang_model)
        self.app.update_buttons()

    def on_download(self, phase: str, data: Any) -> None:
        """Download progress in the progress bar; its ending in the status bar."""
        window = self.app.window
        if phase == ev.PROGRESS:
            total = f" of {data.total / 1e6:.0f} MB" if data.total else " MB"
            window[ev.K_PROGRESS].update(data.done, max=max(1, data.total or 1))
            window[ev.K_PROGRESS_TEXT].update(f"{data.done / 1e6:.0f}{total}\n{format_eta(data.eta_s)}".strip())
            if data.stage and data.stage != "download":
                self.app.set_status(f"Zhang model: {data.stage}...")
            return
        window[ev.K_PROGRESS_TEXT].update("")
        if phase == ev.DONE:
            self.app.set_status(f"Zhang model installed: {data}")
            self.models_changed()
        elif phase == ev.CANCELLED:
            self.app.set_status("Download cancelled. Start it again to continue where it stopped.")
        else:
            self.app.set_status(f"Download failed: {data}")
            self.app.dialogs.notice("Download failed", f"The Zhang model could not be downloaded:\n\n{data}")

    def import_model(self) -> None:
        """Import a model file the user picked (.safetensors generator or Zhang .caffemodel)."""
        chosen = sg.popup_get_file("Import a model file", no_window=True,
                                   file_types=(("Model files", "*.safetensors *.caffemodel"),))
        if chosen:
            self.app.set_status(f"Importing {Path(str(chosen)).name}...")
            self.app.start_job(ev.IMPORT, workers.import_model, str(chosen))

    def on_import(self, phase: str, data: Any) -> None:
        """An import finished: say so and check the methods again."""
        if phase == ev.DONE:
            note = " It is now the default cGAN model." if data and data.get("made_default") else ""
            self.app.set_status(f"Model imported: {data['path'] if data else data}.{note}")
            self.models_changed()
        elif phase == ev.ERROR:
            self.app.set_status(f"Import failed: {data}")
            self.app.dialogs.notice("Import failed", f"That file could not be imported:\n\n{data}")

    def choose_default_model(self) -> None:
        """Pick which cGAN model file the app uses by default."""
        files = [str(p) for _where, p in model_store.list_weight_files() if p.suffix.lower() == ".safetensors"]
        current = model_store.user_default_cgan_weights()
        options = ["(the model shipped with the app)"] + files
        rows = [[sg.Text("The cGAN method uses this model file:")],
                [sg.Listbox(options, default_values=[str(current) if current else options[0]], size=(90, 8),
                            key="-CHOICE-")],
                [sg.Push(), sg.Button("Use this model"), sg.Button("Cancel")]]

        def handle(event: Any, values: Any) -> bool:
            if event == "Use this model" and values and values.get("-CHOICE-"):
                choice = values["-CHOICE-"][0]
                if choice != options[0] and not self._verified(Path(choice)):
                    return False
                model_store.set_user_default_cgan_weights(None if choice == options[0] else Path(choice))
                self.app.set_status(f"Default cGAN model: {choice}")
                self.models_changed()
            return False

        self.app.dialogs.dialog("Default cGAN model", rows, handle)

    def _verified(self, weights: Path) -> bool:
        """Run the same checks as 'models set-default' on a model file; say why it is refused."""
        from ..backends.cgan import verify_weights

        try:
            verify_weights(weights)
        except (ValueError, OSError) as err:
            self.app.set_status(f"Not changed: {err}")
            self.app.dialogs.notice("Model refused", f"That model file cannot be used:\n\n{err}")
            return False
        return True
