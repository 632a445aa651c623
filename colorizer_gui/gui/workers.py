"""What the background jobs do, one function per job. Workers never touch a
widget: they only post events.

Each job runs in a daemon thread (``jobs.Job``) and posts
``((JOB, PHASE), (job_id, payload))`` to the window. Whatever happens, a job
ends by posting exactly one of DONE, ERROR or CANCELLED. The loaded backend and
the out-of-memory fallback are in ``backend_cache``. Torch is imported only in
worker threads (here and there).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional, Sequence

from ..core import model_store, pipeline
from ..core.hints import Hint
from ..core.photo import PhotoError, find_photos, load_photo, load_reduced, make_folders
from ..core.cpu_retry import run_batch_with_cpu_retry
from ..core.progress import ProgressEvent
from ..core.video import VideoError, display_oriented, read_frame, video_looks_color
from ..core.repair import Detector, RepairSettings
from ..nets.detector_choice import choose_detector
from . import events, images, video_preview
from .backend_cache import BACKENDS, BackendConfig, _colorize_with_fallback, _out_of_memory
from .jobs import Cancelled, Job, friendly_error
from .repair_preview import RepairRequest, overlay, repaired_view


def repair_detector() -> Optional[Detector]:
    """The repair detector the window uses: the command line's default ("auto")."""
    return choose_detector("auto")


#: Longest side of the downscaled copy a preview is computed on.
PREVIEW_SIDE = 1024


def warmup(job: Job) -> dict[str, Any]:
    """Import torch in the background and say which devices it sees."""
    started = time.monotonic()
    info: dict[str, Any] = {"torch": None, "cuda": False, "gpu": ""}
    try:
        import torch
    except ImportError:
        info["error"] = "PyTorch is not installed: only the zhang backend can run."
        return info
    info["torch"] = torch.__version__
    try:
        if torch.cuda.is_available():
            info["cuda"] = True
            info["gpu"] = torch.cuda.get_device_name(0)
    except Exception as err:  # noqa: BLE001 - a broken driver is reported, not fatal
        info["cuda_error"] = str(err)
    info["seconds"] = round(time.monotonic() - started, 2)
    return info


def scan(job: Job, paths: list[str]) -> list[str]:
    """Find the photos and videos in the given files and folders (recursively)."""
    from ..core.batch_plan import is_media_file, written_by_colorizer

    found = find_photos([Path(p) for p in paths], recursive=True, accept=is_media_file)
    # Our own earlier copies are not new photos to colorize (the user's own
    # folder named "colorized" or photos named *_color.jpg are).
    return [str(p) for p in found if not written_by_colorizer(Path(p))]


def thumbnails(job: Job, files: list[str], size: int = 40) -> int:
    """Load each photo once: post its thumbnail, size and whether it is already colour
    (or why it cannot be read)."""
    for path in files:
        if job.should_stop():
            raise Cancelled()
        try:
            if video_preview.is_video(path):
                payload = video_preview.thumbnail(path, size)
                job.post(events.ITEM, payload)
                continue
            photo = load_reduced(Path(path), 2 * size)  # a 100 MP scan decodes at 1/8
            payload = {"path": path, "png": images.thumbnail_png(photo.pixels, size),
                       "is_color": photo.is_color, "size": photo.info["full_size"]}
        except PhotoError as err:
            payload = {"path": path, "error": str(err)}
        except Exception as err:  # noqa: BLE001 - one bad file must not stop the others
            payload = {"path": path, "error": friendly_error(err)}
        job.post(events.ITEM, payload)
    return len(files)


def preview(job: Job, path: str, config: Optional[BackendConfig],
            result_file: Optional[str] = None, hints: Sequence[Hint] = (),
            shown: Optional[dict[str, Any]] = None, repair: Optional[RepairRequest] = None) -> dict[str, Any]:
    """Preview one photo: with ``result_file`` (an output already written) both
    are read from disk; with no ``config`` only the original is shown; otherwise
    the core colorizes a downscaled copy, with the photo's colour ``hints``.
    ``repair``: the downscaled copy is repaired first (``repair_preview``): its
    ``original`` is the repaired photo, ``overlay`` the damage shown in red and
    ``source`` the photo as it is; the colorizer sees the repaired one.

    ``shown``: the preview this one replaces; when it is of the same photo its
    original is reused (a hint edit re-colorizes without reading the file again).
    The result's ``hints_unused`` is True when hints were given to a backend that
    takes none (the zhang method)."""
    if shown and shown.get("path") == path and shown.get("original") is not None:
        original = shown.get("source", shown["original"])
        info = {"path": path, "original": original, "color": None, "note": "",
                "is_color": shown.get("is_color", False), "size": shown.get("size")}
    else:
        photo = load_reduced(Path(path), PREVIEW_SIDE)
        original = images.fit(images.to_pil(photo.pixels), PREVIEW_SIDE, PREVIEW_SIDE)
        info = {"path": path, "original": original, "color": None, "note": "",
                "is_color": photo.is_color, "size": photo.info["full_size"]}
    info["hints_unused"] = False
    info["source"] = original
    if repair is not None:
        if job.should_stop():
            raise Cancelled()
        try:
            stamp = Path(path).stat().st_mtime_ns
        except OSError:
            stamp = 0
        info.update(repaired_view(original, repair, (path, stamp), repair_detector()))
        original = info["original"]
    if result_file:
        done = load_photo(Path(result_file))
        info["color"] = images.fit(images.to_pil(done.pixels), PREVIEW_SIDE, PREVIEW_SIDE)
        return info
    if config is None:
        return info
    import numpy as np

    small = np.asarray(original)
    if job.should_stop():
        raise Cancelled()

    def run(backend: Any, cfg: BackendConfig) -> Any:
        info["hints_unused"] = bool(hints) and not backend.accepts_hints
        return pipeline.colorize_array(small, backend, cfg.render_size, cfg.saturation, hints=tuple(hints))

    rgb, note = _colorize_with_fallback(job, config, run)
    info.update(color=images.to_pil(rgb), note=note)
    return info


def video_frame_preview(job: Any, path: str, config: Any, fraction: float, result_file: Optional[str] = None) -> dict[str, Any]:
    """One frame of a video, with its colorized version: from the written colour
    copy when there is one, else colorized on its own (a still frame needs no
    steadying; the copy itself is steadied along the motion)."""
    frame, info = read_frame(Path(path), fraction)
    shown = display_oriented(frame, info.rotation)
    original = images.fit(images.to_pil(shown), PREVIEW_SIDE, PREVIEW_SIDE)
    data = {"path": path, "original": original, "color": None, "note": "", "is_color": video_looks_color(info),
            "size": info.display_size, "duration": info.duration_s, "fraction": fraction,
            "frames": info.estimated_frames()}
    if result_file:
        try:
            done, done_info = read_frame(Path(result_file), fraction)
            data["color"] = images.fit(images.to_pil(display_oriented(done, done_info.rotation)),
                                        PREVIEW_SIDE, PREVIEW_SIDE)
        except VideoError:
            pass  # the copy is gone or unreadable: show the original alone
        return data
    if config is None:
        return data
    if job.should_stop():
        raise Cancelled()
    import numpy as np

    small = np.asarray(original)

    def run(backend: Any, cfg: BackendConfig) -> Any:
        return pipeline.colorize_array(small, backend, cfg.render_size, cfg.saturation)

    rgb, note = _colorize_with_fallback(job, config, run)
    data.update(color=images.to_pil(rgb), note=note)
    return data


def _join_notes(*parts: str) -> str:
    """Notes for the user as sentences, in order, the empty ones left out."""
    return " ".join(p[:1].upper() + p[1:].rstrip(".") + "." for p in parts if p)


def full_resolution(job: Job, path: str, config: BackendConfig, hints: Sequence[Hint] = (),
                    repair: Optional[RepairSettings] = None) -> dict[str, Any]:
    """Colorize the whole photo at full resolution, with its colour ``hints`` (for the 100% view);
    ``repair``: repaired first, as Save repairs it (with its saved brush strokes)."""
    photo = load_photo(Path(path))
    extra: dict[str, Any] = {}
    if repair is not None:
        from ..core.repair.files import repair_photo

        before = images.to_pil(photo.pixels)
        photo, result, _note = repair_photo(photo, repair, detector=repair_detector())
        extra = {"overlay": overlay(before, result.mask), "damage": float(result.mask.mean())}
        del before
        if job.should_stop():
            raise Cancelled()

    def run(backend: Any, cfg: BackendConfig) -> pipeline.Colorized:
        return pipeline.colorize_photo(photo, backend, cfg.render_size, cfg.saturation, tuple(hints))

    done, fallback = _colorize_with_fallback(job, config, run)
    return {"path": path, "original": images.to_pil(photo.pixels), "color": images.to_pil(done.pixels),
            "note": _join_notes(fallback, done.note), **extra}


def save(job: Job, path: str, config: BackendConfig, dest: Optional[str], out_dir: Optional[str],
         hints: Sequence[Hint] = (), repair: Optional[RepairSettings] = None) -> dict[str, Any]:
    """Colorize one photo at full resolution with its colour ``hints`` and save it:
    to ``dest`` (Save as; the core adds a counter rather than overwrite) or into
    ``out_dir`` (Save). ``repair``: repaired first, with its saved brush strokes."""
    folder = Path(dest).parent if dest else Path(out_dir) if out_dir else Path(path).parent / "colorized"
    if not dest:
        try:
            make_folders(folder)
        except OSError as err:
            raise PhotoError(f"Cannot create the output folder {folder}: {err.strerror or err}") from err

    def run(backend: Any, cfg: BackendConfig) -> pipeline.SavedCopy:
        return pipeline.save_color_copy(Path(path), folder, backend, cfg.render_size, cfg.saturation,
                                         tuple(hints), dest=Path(dest) if dest else None, repair=repair,
                                         repair_detector=repair_detector() if repair is not None else None)

    saved, fallback = _colorize_with_fallback(job, config, run)
    written = saved.path
    note = _join_notes(fallback, saved.note, *saved.photo_notes)
    return {"path": path, "dest": str(written), "note": note}


def batch(job: Job, inputs: list[str], out_dir: Optional[str], config: BackendConfig,
          skip_existing: bool, recolor: bool, repair: Optional[RepairSettings] = None) -> Any:
    """Colorize many photos with the core's batch engine; each photo's outcome is
    posted as it lands. Photos that ran out of GPU memory are retried on the CPU.
    ``repair``: each photo is repaired first, with its own brush strokes."""
    last_post = [0.0]

    def on_progress(event: ProgressEvent) -> None:
        finished = bool(event.metrics.get("outcome"))
        now = time.monotonic()
        # Per-photo outcomes always go through; plain progress at most ~10 per second.
        if finished or now - last_post[0] > 0.1:
            last_post[0] = now
            job.post(events.PROGRESS, event)

    def post(event: Any) -> None:
        if isinstance(event, str):  # the note before the CPU retry (core.cpu_retry)
            job.post(events.PROGRESS, event)
        else:
            on_progress(event)

    def on_cpu() -> Any:
        with BACKENDS.lock:
            return BACKENDS.get(config.on_cpu())

    # The backend is not thread-safe: hold it for the whole batch (previews wait).
    with BACKENDS.lock:
        result = run_batch_with_cpu_retry(
            [Path(p) for p in inputs], Path(out_dir) if out_dir else None, BACKENDS.get(config),
            on_cpu if config.device != "cpu" else None, _out_of_memory,
            render_size=config.render_size, saturation=config.saturation,
            skip_existing=skip_existing, recolor=recolor,
            on_progress=post, should_stop=job.should_stop, repair=repair,
            repair_detector=repair_detector() if repair is not None else None)
    if result.cancelled:
        job.cancel()  # ends with CANCELLED, carrying the partial result
    return result


def download_zhang_model(job: Job) -> Any:
    """Download and verify the Zhang model, as ``models download zhang`` does."""
    from ..backends.zhang import ZhangBackend
    from ..core.download import DownloadCancelled

    def on_progress(event: ProgressEvent) -> None:
        job.post(events.PROGRESS, event)

    try:
        result = ZhangBackend.download_weights(on_progress=on_progress, should_stop=job.should_stop)
    except DownloadCancelled:
        raise Cancelled() from None
    if job.should_stop():
        raise Cancelled()
    BACKENDS.clear()
    return str(result) if result is not None else None


def import_model(job: Job, src: str) -> Optional[dict[str, Any]]:
    """Copy (and check) a model file the user picked into their weights folder.

    The first cGAN model a user brings becomes the one the method uses (when no
    default exists yet). Returns {"path", "made_default"}."""
    from ..backends.zhang import import_weights

    result = import_weights(Path(src))  # the same checks as 'models import'
    BACKENDS.clear()
    if result is None:
        return None
    made_default = Path(result).suffix.lower() == ".safetensors" and model_store.resolve_cgan_weights() is None
    if made_default:
        model_store.set_user_default_cgan_weights(Path(result))
    return {"path": str(result), "made_default": made_default}


def registered_backends() -> list[str]:
    """The registry's backend names in menu order (cheap: no model is opened)."""
    from ..backends import backend_names

    return backend_names()


def backend_status(job: Optional[Job] = None) -> dict[str, tuple[bool, str]]:
    """For every registered backend: (can run now, why or what it will use).

    Run as a job (it may open model files); ``job`` is unused but keeps the
    worker signature."""
    from ..backends import create_backend

    found = {}
    for name in registered_backends():
        try:
            avail = create_backend(name).availability()
            found[name] = (avail.ok, avail.reason)
        except Exception as err:  # noqa: BLE001 - a broken backend must not stop the app
            found[name] = (False, str(err))
    return found


def count_photos(job: Job, folder: str) -> tuple[str, int]:
    """(folder, how many photos it holds, recursively) for the fine-tune dialog.

    Only files whose bytes are an allowed image format count: a PostScript file
    named .jpg is no photo to learn from."""
    from ..core.photo import count_readable_photos

    return folder, count_readable_photos(Path(folder))
