"""Download a file safely: progress events, resume, verification, atomic install.

Bytes go to ``<dest>.partial`` in the destination folder; only a file whose size
and hash check out is renamed onto ``dest``. A cancelled or dropped download
keeps the partial file so the next attempt resumes with an HTTP Range request;
a download that fails verification is deleted, never installed.
"""
from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional

from . import atomic
from .errors import UserError
from .progress import ProgressCallback, ProgressEvent, StopCallback, never_stop, no_progress

_CHUNK = 1 << 20
_USER_AGENT = "Colorizer/0.1 (+model download)"


class DownloadError(UserError, RuntimeError):
    """A download failed or did not verify; the message is meant for the user."""


class DownloadCancelled(DownloadError):
    """The user stopped the download; the partial file is kept for resuming."""


def partial_path(dest: Path) -> Path:
    """Where the bytes of ``dest`` collect while downloading."""
    return dest.with_suffix(dest.suffix + ".partial")


def download_file(url: str, dest: Path, expected_size: Optional[int] = None,
                  expected_sha256: Optional[str] = None,
                  on_progress: Optional[ProgressCallback] = None,
                  should_stop: Optional[StopCallback] = None, timeout: float = 30,
                  expected_sha1: Optional[str] = None,
                  verify: Optional[Callable[[Path], None]] = None) -> Path:
    """Fetch ``url`` into ``dest`` and return ``dest``.

    Resumes a previous ``dest.partial``; reports ``ProgressEvent("download", done,
    total)`` in bytes; checks size and hashes (and ``verify(partial)``, which
    raises to refuse the file) before an atomic rename. Raises ``DownloadError``
    (verification failures delete the partial) or ``DownloadCancelled``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(dest)
    report = on_progress or no_progress
    stop = should_stop or never_stop
    have = part.stat().st_size if part.exists() else 0
    if expected_size is not None and have > expected_size:
        part.unlink()  # longer than the real file: cannot be a prefix of it
        have = 0
    if expected_size is None or have < expected_size:
        _fetch(url, part, have, expected_size, report, stop, timeout, dest.name)
    _verify(part, expected_size, expected_sha256, expected_sha1, verify)
    return atomic.replace(part, dest)


def _fetch(url: str, part: Path, have: int, expected_size: Optional[int], report: ProgressCallback,
           stop: StopCallback, timeout: float, label: str) -> None:
    headers = {"User-Agent": _USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to send: the partial is whole (verified next)
            return
        if 300 <= err.code < 400:  # urllib gives up on a redirect loop (or too many redirects)
            raise DownloadError(f"the server sent {url} round in redirects (HTTP {err.code}); "
                                "the file is not there") from None
        raise DownloadError(f"the server refused {url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"cannot reach {url}: {getattr(err, 'reason', err)}") from None
    with response:
        if have and response.status != 206:
            have = 0  # the server ignored the Range request: start again
        length = response.headers.get("Content-Length")
        total = expected_size or (have + int(length) if length and length.isdigit() else 0)
        done = have
        last_report = 0.0
        report(ProgressEvent("download", done, total, current=label))
        started, start_done = time.monotonic(), done
        try:
            with open(part, "ab" if have else "wb") as out:
                while True:
                    if stop():
                        raise DownloadCancelled(f"download of {label} stopped; run it again to resume")
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    now = time.monotonic()
                    if now - last_report > 0.1:
                        rate = (done - start_done) / max(now - started, 1e-6)
                        eta = (total - done) / rate if total and rate > 0 else None
                        report(ProgressEvent("download", done, total, current=label, eta_s=eta,
                                             metrics={"bytes_per_s": rate}))
                        last_report = now
        except (http.client.IncompleteRead, OSError) as err:
            raise DownloadError(f"the connection dropped after {done} bytes of {label} ({err}); "
                                "run the download again to resume") from None
        report(ProgressEvent("download", done, total, current=label))
        if length and length.isdigit() and done - have < int(length):
            raise DownloadError(f"the connection dropped after {done} of {have + int(length)} bytes "
                                f"of {label}; run the download again to resume")


def _verify(part: Path, expected_size: Optional[int], sha256: Optional[str], sha1: Optional[str],
            verify: Optional[Callable[[Path], None]]) -> None:
    size = part.stat().st_size
    problem = None
    if expected_size is not None and size != expected_size:
        problem = f"it has {size} bytes, expected {expected_size}"
    else:
        digests = {name: hashlib.new(name) for name, want in (("sha256", sha256), ("sha1", sha1)) if want}
        if digests:
            with open(part, "rb") as fh:
                while block := fh.read(_CHUNK):
                    for digest in digests.values():
                        digest.update(block)
            for name, want in (("sha256", sha256), ("sha1", sha1)):
                if want and digests[name].hexdigest().lower() != want.lower():
                    problem = f"its {name.upper()} does not match the published one (a wrong or damaged file)"
        if problem is None and verify is not None:
            try:
                verify(part)
            except Exception as err:  # noqa: BLE001 - any refusal by the checker refuses the file
                problem = str(err)
    if problem:
        part.unlink(missing_ok=True)
        raise DownloadError(f"the downloaded file was refused: {problem}. Nothing was installed.")
