"""Download the Zhang model: each source in turn (its SHA-256 and size checked, then
the net's structure and the backend's OpenCV load), the authors' PyTorch release
converted to Caffe once. The generic resumable download is ``core.download``."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from ...core import atomic, paths
from ...core.download import DownloadCancelled, DownloadError, download_file, partial_path
from ...core.progress import ProgressCallback, StopCallback
from .files import ZHANG_WEIGHTS_NAME, ZhangSource, check_caffemodel_file, zhang_sources


def download_zhang(on_progress: Optional[ProgressCallback] = None,
                   should_stop: Optional[StopCallback] = None, base_url: Optional[str] = None,
                   verify: Optional[Callable[[Path], None]] = None,
                   convert_pth: Optional[Callable[[Path, Path], object]] = None,
                   sources: Optional[list[ZhangSource]] = None) -> Path:
    """Download the Zhang ECCV16 weights into the user's weights folder; return the path.

    Tries ``sources`` (default ``zhang_sources(base_url)``: the authors' PyTorch
    release, then caffemodel mirrors) in order until one works. Each download
    must have its source's SHA-256 (and size); a .caffemodel must also have the
    colorization net's structure and pass ``verify`` (e.g. the backend's OpenCV
    load check). A PyTorch source is converted by ``convert_pth(pth, caffemodel)``
    only after its hash matched, and the result is checked the same way; the .pth
    is deleted afterwards. Raises ``DownloadCancelled``, or ``DownloadError``
    listing every source with the reason it failed.
    """
    folder = paths.user_weights_dir()
    dest = folder / ZHANG_WEIGHTS_NAME

    def check(path: Path) -> None:
        check_caffemodel_file(path, DownloadError, verify)

    failures = []
    for source in sources if sources is not None else zhang_sources(base_url):
        try:
            if source.kind == "pth":
                if convert_pth is None:
                    raise DownloadError("this PyTorch file needs the cGAN backend's PyTorch to convert it")
                return _install_converted(source, dest, convert_pth, check, on_progress, should_stop)
            return _download_fresh_if_needed(source.url, dest, source, on_progress, should_stop, check)
        except DownloadCancelled:
            raise
        except DownloadError as err:
            failures.append(f"{source.url}: {err}")
    raise DownloadError("the Zhang model could not be downloaded from any source:\n"
                        + "\n".join(f"  - {line}" for line in failures))


def _download_fresh_if_needed(url: str, dest: Path, source: ZhangSource, on_progress: Optional[ProgressCallback],
                              should_stop: Optional[StopCallback], check: Callable[[Path], None]) -> Path:
    """``download_file`` for one source. A partial file left by another source is
    resumed (the same bytes everywhere, by hash); if that fails verification the
    source gets one clean try of its own, so a bad mirror cannot spoil a good one."""
    resumed = partial_path(dest).exists()
    try:
        return download_file(url, dest, expected_size=source.size, expected_sha256=source.sha256,
                             on_progress=on_progress, should_stop=should_stop, verify=check)
    except DownloadCancelled:
        raise
    except DownloadError:
        if not resumed or partial_path(dest).exists():
            raise
    return download_file(url, dest, expected_size=source.size, expected_sha256=source.sha256,
                         on_progress=on_progress, should_stop=should_stop, verify=check)


def _install_converted(source: ZhangSource, dest: Path, convert_pth: Callable[[Path, Path], object],
                       check: Callable[[Path], None], on_progress: Optional[ProgressCallback],
                       should_stop: Optional[StopCallback]) -> Path:
    """Fetch a PyTorch source (hidden, hash-checked), convert it, check and install the result."""
    pth = dest.parent / ".zhang-release.pth"
    converted = dest.parent / f".{dest.name}.converted"
    pth = _download_fresh_if_needed(source.url, pth, source, on_progress, should_stop, lambda _p: None)
    try:
        try:
            convert_pth(pth, converted)
        except Exception as err:  # noqa: BLE001 - any refusal by the converter refuses the file
            raise DownloadError(f"the downloaded file could not be converted: {err}. Nothing was installed.") from None
        try:
            check(converted)
        except Exception as err:  # noqa: BLE001 - as in download_file's verify
            raise DownloadError(f"the converted model was refused: {err}. Nothing was installed.") from None
        atomic.replace(converted, dest)
    finally:
        pth.unlink(missing_ok=True)
        converted.unlink(missing_ok=True)
    return dest
