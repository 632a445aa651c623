"""Which files a batch colorizes and where each copy goes: folders expanded, earlier
colour copies left out, each photo's own copy from an earlier run found. The batch
engine (``core.batch``) runs the jobs planned here."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from . import provenance, video
from .photo import copy_name, find_photos, is_photo_file, output_extension, recorded_outputs
from .video import is_video_file

if TYPE_CHECKING:
    from .batch_result import BatchResult

#: Name of the folder made beside each photo when no output folder is given.
DEFAULT_OUT_NAME = "colorized"


def is_media_file(name: str | Path) -> bool:
    """Whether a file found in a folder is one the batch colorizes (photo or video)."""
    return is_photo_file(name) or is_video_file(name)


@dataclass(frozen=True)
class _Job:
    src: Path
    dest_dir: Path


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


_OUTPUT_STEM = re.compile(r".*_(color|repaired)(-\d+)?(_mask(-\d+)?)?")
def looks_like_output(path: Path) -> bool:
    """Whether ``path`` is named like a copy Colorizer wrote (``<stem>_color[-N].<ext>``,
    ``<stem>_repaired[-N].<ext>``, or the damage mask ``..._mask.png`` beside one)."""
    return _OUTPUT_STEM.fullmatch(Path(path).stem) is not None


def written_by_colorizer(path: Path, recorded: Optional[frozenset[str]] = None) -> bool:
    """True only for a file Colorizer itself wrote: its name is in its folder's
    marker file, or (a copy moved elsewhere, or from before the marker existed) it
    is named like a copy and carries Colorizer's provenance. A user's own folder
    named ``colorized`` or photo named ``*_color.jpg`` is never mistaken for one."""
    path = Path(path)
    names = recorded_outputs(path.parent) if recorded is None else recorded
    if path.name in names:
        return True
    if not looks_like_output(path):
        return False
    try:
        return bool(provenance.read_provenance(path)["colorizer"])
    except Exception:  # unreadable: let the photo's own load say why
        return False


def plan_jobs(inputs: Sequence[Path], out_dir: Optional[Path],
              skipped: Optional[list[tuple[Path, str]]] = None,
              problems: Optional[list[tuple[Path, str]]] = None,
              left_out: Optional[list[Path]] = None,
              out_name: str = DEFAULT_OUT_NAME) -> tuple[list[_Job], list[tuple[Path, str]]]:
    """Expand ``inputs`` into (source, output folder) jobs, and list inputs that do not exist.

    Folders are searched recursively. With ``out_dir`` the sub-folders of a folder
    input are mirrored under it (so ``a/x.jpg`` and ``b/x.jpg`` stay apart);
    without it each photo gets an ``out_name`` (``colorized``) folder beside it. Copies Colorizer
    wrote earlier (``written_by_colorizer``) are not picked up again from a folder
    input, and are listed in ``left_out``; photos a folder holds in a format
    Colorizer cannot read go to ``skipped`` with the reason, and photos that cannot
    be opened at all (a path too long for the system) to ``problems``. A file
    named explicitly is always tried, so a wrong file gets a clear message.
    """
    jobs: list[_Job] = []
    missing: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    markers: dict[Path, frozenset[str]] = {}

    def add(src: Path, dest_dir: Path) -> None:
        key = src.resolve()
        if key not in seen:
            seen.add(key)
            jobs.append(_Job(src, dest_dir))

    def ours(src: Path) -> bool:
        if src.parent not in markers:
            markers[src.parent] = recorded_outputs(src.parent)
        return written_by_colorizer(src, markers[src.parent])

    for raw in inputs:
        item = Path(raw)
        if item.is_dir():
            found_problems: list[tuple[Path, str]] = []
            for src in find_photos([item], recursive=True, accept=is_media_file,
                                   problems=found_problems):
                src = Path(src)
                if ours(src):
                    if left_out is not None:
                        left_out.append(src)
                    continue
                # find_photos walks the folder itself, so src is item/<sub-folders>/<name>.
                rel_parent = src.parent.relative_to(item) if _inside(src, item) else Path()
                add(src, Path(out_dir) / rel_parent if out_dir is not None else src.parent / out_name)
            for path, message in found_problems:
                if message.startswith("this format is not supported"):
                    if skipped is not None:
                        skipped.append((path, message))
                elif problems is not None:
                    problems.append((path, message))
        elif item.exists():  # a FIFO or device too: load_photo says it is not a regular file
            add(item, Path(out_dir) if out_dir is not None else item.parent / out_name)
        else:
            missing.append((item, "no such file or folder"))
    return jobs, missing


def plan_batch(inputs: Sequence[Path], out_dir: Optional[Path], result: "BatchResult",
               out_name: str = DEFAULT_OUT_NAME) -> list[_Job]:
    """``plan_jobs`` for a batch: the jobs to run, with what planning settled
    written into ``result`` (missing inputs and unopenable photos in ``failed``,
    unreadable formats in ``skipped``, earlier copies in ``left_out``) and
    ``result.total`` counting both."""
    problems: list[tuple[Path, str]] = []
    jobs, missing = plan_jobs(inputs, out_dir, skipped=result.skipped, problems=problems,
                              left_out=result.left_out, out_name=out_name)
    result.failed.extend(missing + problems)
    result.total = len(jobs) + len(result.failed) + len(result.skipped)
    return jobs


def _existing_output(job: _Job) -> Optional[Path]:
    """This source's own colour copy from an earlier run, if it is in the output folder.

    A copy counts when it is named ``<stem>_color[-N]`` with the extension this
    source's copy gets (so ``wedding.tif`` is not taken as done because
    ``wedding_color.jpg`` exists from ``wedding.jpg``), Colorizer recorded writing
    it, and, when it records its source, that source has this photo's name."""
    if not job.dest_dir.is_dir():
        return None
    recorded = recorded_outputs(job.dest_dir)
    if not recorded:
        return None
    ext = (video.OUTPUT_EXTENSION if is_video_file(job.src.name)
           else output_extension("", job.src)).lower()
    for name in sorted(recorded):
        candidate = Path(name)
        if candidate.suffix.lower() != ext or not looks_like_output(candidate):
            continue
        counter = re.search(r"-(\d+)$", candidate.stem)
        number = int(counter.group(1)) if counter else 1
        # The same naming as the copy was written with (a long name is shortened).
        if copy_name(job.src, candidate.suffix, number).casefold() != name.casefold():
            continue
        path = job.dest_dir / name
        if not path.is_file():
            continue
        try:
            source = provenance.read_provenance(path)["colorizer"].get("Source")
        except Exception:
            source = None
        if source is None or source == provenance.display_name(job.src.name):
            return path
    return None
