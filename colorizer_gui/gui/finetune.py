"""The fine-tuning dialog: choose photos and a preset, see an estimate, run the
trainer (a subprocess, ``train_process.py``), watch it, and use the model.

The model is trained into a run folder; only when the run is complete and the
user presses "Use this model" is it copied (atomically, in a worker) into the
user's models folder, and the previous default stays until then.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import PySimpleGUI as sg

from ..core import model_store, paths
from ..core.atomic import atomic_copy
from ..nets.device import DEVICE_CHOICES
from ..core.progress import ProgressEvent
from ..core.text import format_duration, format_eta
from . import events as ev, geometry, images, workers
from .dialogs import icon_file
from .jobs import Job
from .train_process import TRAIN_EVENT, TrainingProcess, training_command

log = logging.getLogger(__name__)

NO_FOLDER_ESTIMATE = "Pick a folder of colour photos to see how long training will take."
PREVIEW_BOX = (400, 140)
#: The trainer's checkpoint file in a run folder (training/checkpoint.py).
CHECKPOINT_NAME = "checkpoint.safetensors"


@dataclass(frozen=True)
class Preset:
    """How long to train: epochs of each stage and the training image size."""

    title: str
    l1_epochs: int
    gan_epochs: int
    size: int
    blurb: str


PRESETS: dict[str, Preset] = {
    "quick": Preset("Quick", 2, 0, 256, "A first taste: colours learnt from your photos, no GAN stage."),
    "standard": Preset("Standard", 3, 3, 256, "Good results for most collections."),
    "thorough": Preset("Thorough", 5, 10, 256, "Best colours; best left running overnight."),
}

#: Rough training speed in images per second at 256 px, used until this machine
#: has been measured (the dialog says which one it shows). The CPU figure is the
#: L1-stage speed in bench/RESULTS.md ("Training speed", 2 cores); GAN steps also
#: train the discriminator and measured about 3x slower there.
TYPICAL_SPEED = {"cpu": 3.0, "cuda": 120.0}
GAN_SLOWDOWN = 3.0
#: Before the first step: starting PyTorch (about 10 s here) and reading every
#: photo once into the training cache (a 6 MP JPEG takes about 30 ms to decode here).
STARTUP_S = 10.0
SCAN_S_PER_PHOTO = 0.03


def estimate_seconds(images: int, preset: Preset, device: str, measured: Optional[dict[str, float]] = None,
                     size: Optional[int] = None) -> tuple[float, str]:
    """(seconds, where the speed figure comes from) for training ``images`` photos.

    estimate = start-up + reading the photos + images x epochs / images-per-second,
    with the images/s measured on this machine during an earlier run when there
    was one, else a typical figure.
    """
    kind = "cuda" if device == "cuda" else "cpu"
    size = size or preset.size
    measured = measured or {}
    if kind in measured and measured[kind] > 0:
        speed, source = measured[kind], "measured on this computer in an earlier run"
    else:
        speed, source = TYPICAL_SPEED[kind], f"typical for a {'graphics card' if kind == 'cuda' else 'CPU'}"
    speed *= (256 / size) ** 2  # cost grows with the pixel count
    epochs = preset.l1_epochs + preset.gan_epochs * GAN_SLOWDOWN
    return STARTUP_S + images * SCAN_S_PER_PHOTO + images * epochs / max(speed, 1e-6), source


def install_model(job: Any, model: Path, dest: Path, make_default: bool) -> tuple[str, bool]:
    """Worker: copy a trained model into the models folder (never over another
    file) and optionally make it the default cGAN model; (installed path, made default)."""
    installed = atomic_copy(model, dest, overwrite=False)  # a file that appears meanwhile is kept
    if make_default:
        model_store.set_user_default_cgan_weights(installed)
    return str(installed), make_default


class FineTuneDialog:
    """The Fine-tune window: choose photos and a preset, see an honest estimate,
    start / cancel / resume, watch progress and previews, then use the model."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.settings = app.settings
        self.process: Optional[TrainingProcess] = None
        self.run_dir: Optional[Path] = Path(self.settings.finetune_last_run) if self.settings.finetune_last_run else None
        self.model_file: Optional[Path] = None
        self.image_count: Optional[int] = None
        self.finished_model: Optional[Path] = None
        self.used_model: Optional[Path] = None
        self.speeds: list[float] = []
        self.overrides: dict[str, Any] = {}   # tests and power users: size, epochs, init, extra args
        self.last_event: Optional[ProgressEvent] = None
        self.outcome: Optional[str] = None      # "done", "cancelled" or "error" once a run ended
        self.jobs: dict[str, Job] = {}  # this dialog's workers (photo count, model install)
        self.job_routes = {ev.COUNT: self._on_count, ev.INSTALL: self._on_installed}
        self.routes = self._routes()
        self.window = self._build()
        if self.settings.finetune_folder:
            self.count_photos(self.settings.finetune_folder)
        self._refresh()

    # ----------------------------------------------------------------- layout

    def _build(self) -> Any:
        preset = self.settings.finetune_preset if self.settings.finetune_preset in PRESETS else "quick"
        have_default = model_store.resolve_cgan_weights() is not None
        starts = ["my current cGAN model", "ImageNet features (start fresh)"]
        radios = [[sg.Radio(f"{p.title}: {p.l1_epochs + p.gan_epochs} passes over the photos", "PRESET",
                            key=("-PRESET-", name), default=name == preset, enable_events=True),
                   sg.Text(p.blurb, font=("Helvetica", 9), text_color="#444444")] for name, p in PRESETS.items()]
        layout_ = [
            [sg.Text("Teach the cGAN method the colours of your own photos.", font=("Helvetica", 12, "bold"))],
            [sg.Text("Pick a folder of COLOUR photos that look like the ones you want to colorize "
                     "(a few hundred or more is best).", size=(70, 2))],
            [sg.Text("Colour photos", size=(13, 1)),
             sg.Input(self.settings.finetune_folder, key="-FOLDER-", size=(52, 1), enable_events=True),
             sg.FolderBrowse("Browse...", target="-FOLDER-")],
            [sg.Text("No folder chosen yet.", key="-COUNT-", size=(76, 1))],
            *radios,
            [sg.Text("Start from", size=(13, 1)),
             sg.Combo(starts, default_value=starts[0] if have_default else starts[1], key="-INIT-", readonly=True,
                      enable_events=True, size=(34, 1)),
             sg.Text("Device", size=(6, 1)),
             sg.Combo(list(DEVICE_CHOICES), default_value=self.settings.device, key="-DEVICE-", readonly=True,
                      enable_events=True, size=(6, 1))],
            [sg.Text(NO_FOLDER_ESTIMATE, key="-ESTIMATE-", size=(76, 2), text_color="#0d47a1")],
            [sg.Button("Start", key="-START-"), sg.Button("Resume last run", key="-RESUME-"),
             sg.Button("Cancel training", key="-CANCEL-", disabled=True), sg.Push(),
             sg.Button("Close", key="-CLOSE-")],
            [sg.HorizontalSeparator()],
            [sg.Text("Not started.", key="-STAGE-", size=(76, 1), font=("Helvetica", 11, "bold"))],
            [sg.ProgressBar(100, orientation="h", size=(60, 16), key="-BAR-")],
            [sg.Text("Nothing to show yet: a check on photos set aside appears after the first pass.",
                     key="-METRICS-", size=(76, 2), font=("Helvetica", 10))],
            [sg.Image(key="-GRID-", size=PREVIEW_BOX, background_color="#2b2b2b"),
             sg.Text("Latest check on photos set aside\nfrom training: grey input,\nthe model's colours, "
                     "and the\nreal colours.", font=("Helvetica", 9), text_color="#444444",
                     key="-GRID-HELP-")],
            [sg.Button("Use this model", key="-USE-", disabled=True, button_color=("white", "#2e7d32")),
             sg.Checkbox("and make it the default for the cGAN method", key="-MAKE-DEFAULT-", default=True),
             sg.Push()],
        ]
        window = sg.Window("Fine-tune on my photos", layout_, finalize=True, icon=icon_file(), resizable=True,
                           margins=(16, 12))
        geometry.place_dialog(window, getattr(self.app, "window", None))
        return window

    # ---------------------------------------------------------------- events

    def handle(self, event: Any, values: Optional[dict]) -> bool:
        """Process one event of this window; False when the window should close."""
        values = values or {}
        if event in (sg.WIN_CLOSED, "-CLOSE-"):
            return False
        if isinstance(event, tuple) and event[0] == TRAIN_EVENT:
            self._on_train(event[1], values[event])
            return True
        if isinstance(event, tuple) and event[0] in self.job_routes:
            job_id, payload = values[event]
            job = self.jobs.get(event[0])
            if job is not None and job.id == job_id:  # else from a job that was replaced
                self.job_routes[event[0]](event[1], payload)
        else:
            route = self.routes.get(event[0] if isinstance(event, tuple) else event)
            if route is not None:
                route(event, values)
        self._refresh()
        return True

    def _routes(self) -> dict[Any, Callable[[Any, dict], None]]:
        """This window's element keys -> what they do (given the event and the values)."""
        return {
            "-FOLDER-": lambda event, values: self._on_folder(values),
            "-PRESET-": lambda event, values: setattr(self.settings, "finetune_preset", event[1]),
            "-START-": lambda event, values: self.start(resume=False),
            "-RESUME-": lambda event, values: self.start(resume=True),
            "-CANCEL-": lambda event, values: self.cancel(),
            "-USE-": lambda event, values: self.use_model(bool(values.get("-MAKE-DEFAULT-", True))),
        }

    def _on_folder(self, values: dict) -> None:
        self.settings.finetune_folder = self._folder(values)
        self.count_photos(self.settings.finetune_folder)

    def _folder(self, values: Optional[dict] = None) -> str:
        values = values or {}
        return str(values.get("-FOLDER-", self.settings.finetune_folder) or "").strip()

    def preset(self) -> Preset:
        """The chosen preset, with any overrides applied."""
        base = PRESETS.get(self.settings.finetune_preset, PRESETS["quick"])
        o = self.overrides
        return Preset(base.title, int(o.get("l1_epochs", base.l1_epochs)), int(o.get("gan_epochs", base.gan_epochs)),
                      int(o.get("size", base.size)), base.blurb)

    def count_photos(self, folder: str) -> None:
        """Count the photos in ``folder`` in a worker (big folders take a while)."""
        self.image_count = None
        if not folder or not Path(folder).is_dir():
            self.window["-COUNT-"].update("Choose a folder of colour photos." if not folder
                                          else "That folder does not exist.")
            return
        self.window["-COUNT-"].update("Counting photos...")
        self._start(ev.COUNT, workers.count_photos, folder)

    def _start(self, name: str, target: Any, *args: Any) -> Job:
        """Start a worker posting to this dialog (replacing one of the same name)."""
        old = self.jobs.get(name)
        if old is not None and old.running:
            old.cancel()
        self.jobs[name] = Job(self.window, name, target, *args).start()
        return self.jobs[name]

    def _on_count(self, phase: str, payload: Any) -> None:
        if phase == ev.DONE and payload[0] == self._folder():
            self.image_count = payload[1]
        elif phase == ev.ERROR:
            self.image_count = 0  # counted as none; the trainer would say why
            log.warning("could not count the photos: %s", payload)

    def _refresh(self) -> None:
        w = self.window
        running = self.process is not None and self.process.running
        if self.image_count is not None:
            w["-COUNT-"].update(f"{self.image_count} photos found." + (
                " That is very few: the model will learn little from them." if 0 < self.image_count < 50 else "")
                                if self.image_count else "No photos found in that folder.")
        w["-ESTIMATE-"].update(self.estimate_text())
        resumable = self.can_resume()
        w["-START-"].update(disabled=running or not self.image_count)
        w["-RESUME-"].update(disabled=running or not resumable)
        w["-CANCEL-"].update(disabled=not running)
        w["-USE-"].update(disabled=running or self.finished_model is None)

    def estimate_text(self) -> str:
        """What the estimate line says: how to get an estimate, or the estimate and
        where its speed figure comes from."""
        folder = self._folder()
        if not folder or not Path(folder).is_dir():
            return NO_FOLDER_ESTIMATE
        if self.image_count is None:
            return "Counting the photos to estimate how long it will take..."
        if not self.image_count:
            return "No photos to learn from in that folder, so nothing to estimate."
        device = self._device()
        seconds, source = estimate_seconds(self.image_count, self.preset(), device, self.settings.train_speed)
        where = "the graphics card" if device == "cuda" else "this computer's CPU"
        if (self.window["-DEVICE-"].get() or "auto") == "auto" and not self.app.device_info:
            where += " (still checking for a graphics card)"
        return (f"Estimated time: {format_duration(seconds, about=True)} on {where} for {self.image_count} photos. "
                f"Only an estimate (speed {source}); the real time left shows once training starts.")

    def can_resume(self) -> bool:
        """True when the last run left a checkpoint to continue from."""
        return self.run_dir is not None and (self.run_dir / CHECKPOINT_NAME).is_file()

    def _device(self) -> str:
        chosen = self.window["-DEVICE-"].get() or "auto"
        if chosen == "auto":
            return "cuda" if self.app.device_info.get("cuda") else "cpu"
        return chosen

    # ------------------------------------------------------------- training

    def command(self, resume: bool) -> list[str]:
        """The training command line for the current choices."""
        preset = self.preset()
        assert self.model_file is not None and self.run_dir is not None
        init = self.overrides.get("init") or (
            "default" if self.window["-INIT-"].get().startswith("my") and model_store.resolve_cgan_weights()
            else "imagenet")
        args = training_command() + [
            self._folder(), "--out", str(self.model_file), "--init", init,
            "--l1-epochs", str(preset.l1_epochs), "--gan-epochs", str(preset.gan_epochs),
            "--size", str(preset.size), "--device", self.window["-DEVICE-"].get() or "auto",
            "--run-dir", str(self.run_dir), "--progress-json"]
        if "batch_size" in self.overrides:
            args += ["--batch-size", str(self.overrides["batch_size"])]
        args += list(self.overrides.get("extra_args", []))
        if resume:
            args.append("--resume")
        return args

    def start(self, resume: bool) -> None:
        """Start (or resume) a run in a subprocess."""
        if self.process is not None and self.process.running:
            return
        if resume and self.run_dir is not None:
            self.model_file = self.run_dir / "model.safetensors"
        else:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            self.run_dir = paths.user_runs_dir() / f"finetune-{stamp}"
            self.model_file = self.run_dir / "model.safetensors"
        self.settings.finetune_last_run = str(self.run_dir)
        self.finished_model = None
        self.outcome = None
        self.speeds = []
        self.window["-STAGE-"].update("Starting (loading PyTorch and reading your photos)...")
        self.window["-BAR-"].update(0, max=100)
        try:
            self.process = TrainingProcess(self.window, self.command(resume), self.run_dir).start()
        except OSError as err:
            self.window["-STAGE-"].update(f"Could not start training: {err}")
            self.outcome = "error"

    def cancel(self) -> None:
        """Stop training; a checkpoint is kept so the run can be resumed."""
        if self.process is not None and self.process.running:
            self.process.cancel()
            self.window["-STAGE-"].update("Stopping (saving a checkpoint so you can resume later)...")

    def _on_train(self, phase: str, payload: Any) -> None:
        if phase == ev.PROGRESS:
            self._show_progress(payload)
            return
        self._remember_speed()
        if phase == ev.DONE and self.model_file is not None and self.model_file.is_file():
            self.outcome = "done"
            self.finished_model = self.model_file
            self.window["-STAGE-"].update("Finished. Press 'Use this model' to colorize with it.")
            self.window["-BAR-"].update(1, max=1)
        elif phase == ev.DONE:
            self.outcome = "error"
            self.window["-STAGE-"].update("Training ended without writing a model (see the log in the run folder).")
        elif phase == ev.CANCELLED:
            self.outcome = "cancelled"
            self.window["-STAGE-"].update("Stopped. Your current model is unchanged; 'Resume last run' "
                                          "continues from the last checkpoint.")
        else:
            self.outcome = "error"
            self.window["-STAGE-"].update("Training failed; your current model is unchanged.")
            self.window["-METRICS-"].update(str(payload)[-400:])
            log.error("training failed: %s", payload)
        self._refresh()

    def _show_progress(self, event: ProgressEvent) -> None:
        self.last_event = event
        names = {"scan": "Reading your photos", "l1": "Stage 1 of 2: learning colours (L1)",
                 "gan": "Stage 2 of 2: sharpening colours (GAN)", "eval": "Checking on photos set aside",
                 "done": "Finishing"}
        m = event.metrics
        stage = names.get(event.stage, event.stage)
        if event.stage == "l1" and self.preset().gan_epochs == 0:
            stage = "Learning colours (L1)"
        epoch = f", pass {m['epoch']} of {self.preset().l1_epochs + self.preset().gan_epochs}" if "epoch" in m else ""
        self.window["-STAGE-"].update(f"{stage}{epoch}")
        if event.total:
            self.window["-BAR-"].update(event.done, max=event.total)
        parts = []
        for key, value in m.items():
            if key.startswith("loss") and isinstance(value, (int, float)):
                parts.append(f"{key.replace('loss_', '').replace('_', ' ')} loss {value:.3f}")
        if isinstance(m.get("val_l1"), (int, float)):
            parts.append(f"check: L1 {m['val_l1']:.3f}, PSNR {m.get('val_psnr', 0):.1f} dB")
        if isinstance(m.get("images_per_s"), (int, float)):
            self.speeds.append(float(m["images_per_s"]))
            parts.append(f"{m['images_per_s']:.1f} images/s")
        if event.eta_s is not None and event.stage in ("l1", "gan"):
            parts.append(format_eta(event.eta_s))
        if parts:
            self.window["-METRICS-"].update("   ·   ".join(parts))
        if event.preview and Path(event.preview).is_file():
            self._show_grid(Path(event.preview))

    def _show_grid(self, path: Path) -> None:
        from ..core.photo import PhotoError, load_photo

        try:
            shown = images.fit(images.to_pil(load_photo(path).pixels), *PREVIEW_BOX)
            self.window["-GRID-"].update(data=images.png_bytes(shown))
        except (OSError, PhotoError) as err:
            log.warning("cannot show preview %s: %s", path, err)

    def _remember_speed(self) -> None:
        """Keep this machine's measured speed (normalised to 256 px) for the next estimate."""
        if len(self.speeds) < 3:
            return
        recent = sorted(self.speeds[len(self.speeds) // 2:])
        speed = recent[len(recent) // 2] * (self.preset().size / 256) ** 2
        self.settings.train_speed = dict(self.settings.train_speed, **{self._device(): round(speed, 3)})

    def use_model(self, make_default: bool) -> None:
        """Copy the finished model into the user's models folder (in a worker);
        optionally make it the default. ``used_model`` is set once it is installed."""
        if self.finished_model is None or (self.jobs.get(ev.INSTALL) and self.jobs[ev.INSTALL].running):
            return
        name = f"finetuned-{Path(self.run_dir or 'run').name}.safetensors"
        self.window["-STAGE-"].update("Installing the model...")
        self._start(ev.INSTALL, install_model, self.finished_model, paths.user_weights_dir() / name, make_default)

    def _on_installed(self, phase: str, payload: Any) -> None:
        if phase == ev.ERROR:
            self.window["-STAGE-"].update(f"Could not install the model: {payload}")
            return
        if phase != ev.DONE:
            return
        installed, made_default = Path(payload[0]), payload[1]
        self.used_model = installed
        self.window["-STAGE-"].update(f"Installed {installed.name}" + (" as the default cGAN model." if made_default
                                                                     else ". Choose it in Models > Choose default."))
        self.app.set_status(f"New model installed: {installed}")
        self.app.models_changed()

    def close(self) -> None:
        """Close the dialog at once; a running training is told to stop (it keeps a
        checkpoint) and is killed from a thread if it does not exit in time."""
        if self.process is not None:
            self.process.stop(grace=15)
        for job in self.jobs.values():
            job.mute()
            job.cancel()
        self.window.close()

