"""The training data: a folder tree of the user's colour photos.

``scan_photos`` walks the folder once, skipping (and counting) grayscale or
sepia photos, photos too small to train on, unreadable files, duplicate
files and colour copies Colorizer made (found as ``colorize`` finds photos), and keeps every usable photo decoded in memory, resized so its short
side is about 1.25x the training size (uint8 RGB). Memory: about
``3 * 1.25**2 * size**2 * aspect`` bytes a photo, e.g. ~0.3 MB at size 256 for a
3:2 photo, so 10 000 photos take ~3 GB; ``--max-images`` caps it. Decoding once
means data loading is never the bottleneck, even with no worker processes.

``ColorPhotoDataset`` turns cached photos into training pairs: resize the short
side to a random scale (so most of the scene is seen, as at inference where
the whole photo is scaled to the render size), random crop, random horizontal
flip, Lab via OpenCV, then ``L/50 - 1`` (1, S, S) and ``ab/110`` (2, S, S).
The randomness of each sample comes from (seed, epoch, index) only, so a
resumed run sees exactly the same samples as an uninterrupted one.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import cv2
import numpy as np

from colorizer_gui.core.color import chroma_stats, rgb_to_lab
from colorizer_gui.nets.inference import AB_SCALE, L_CENTER
from colorizer_gui.core.batch_plan import written_by_colorizer
from colorizer_gui.core.photo import PhotoError, find_photos, load_rgb8, recorded_outputs

from .errors import TrainingError

# The photo loader's own list, so training and colorize agree on what a photo is.
CACHE_SCALE = 1.25
# A photo is "gray" when almost no pixel has chroma above this (CIE ab units).
GRAY_P99_CHROMA = 12.0
# A photo is "sepia" (one tint) when its colours share one hue this tightly
# (mean resultant length of hue angles, chroma-weighted) and are not vivid.
SEPIA_HUE_CONCENTRATION = 0.96
SEPIA_MAX_P99_CHROMA = 45.0
# ...and when its tint follows its tone: in a toned print a and b are a function of
# L, so what L does not explain (RMS, CIE ab units) is grain and JPEG noise: under
# 4.5 for 12 of the 14 one-hue scans of the datasets' old_scans. One-hue colour
# photos (skin close-ups, fog, sunsets) vary in colour at equal lightness: 5-7 typically.
SEPIA_MAX_TONE_RESIDUAL = 4.5
_TONE_BINS = 20


class DatasetError(TrainingError):
    """The data folder cannot be used for training; the message is for the user."""


@dataclass
class ScanReport:
    """What a scan of the data folder found (shown by the CLI and the GUI)."""

    folder: str
    found: int = 0          # image files seen
    used: int = 0           # usable colour photos kept
    grayscale: int = 0      # gray or sepia-toned: nothing to learn colour from
    tiny: int = 0           # short side below the minimum
    corrupt: int = 0        # cannot be decoded
    duplicate: int = 0      # same bytes as a file already kept
    colorized: int = 0      # a colour copy Colorizer made: never learn from our own guesses
    not_scanned: int = 0    # left out because --max-images was reached
    train: int = 0
    val: int = 0
    cache_mb: float = 0.0
    examples: dict[str, list[str]] = field(default_factory=dict)  # a few skipped paths per reason

    def summary(self) -> str:
        """A short human-readable summary."""
        parts = [f"{self.found} image files in {self.folder}: {self.used} usable"]
        skipped = [f"{n} {label}" for n, label in ((self.grayscale, "grayscale/sepia"),
                                                     (self.tiny, "too small"),
                                                     (self.corrupt, "unreadable"),
                                                     (self.duplicate, "duplicates"),
                                                     (self.colorized, "Colorizer's own copies"),
                                                     (self.not_scanned, "over --max-images"))
                   if n]
        if skipped:
            parts.append("skipped " + ", ".join(skipped))
        parts.append(f"{self.train} for training, {self.val} held out for validation")
        parts.append(f"{self.cache_mb:.0f} MB in memory")
        return "; ".join(parts)

    def counts(self) -> dict[str, int]:
        """The counts only (for model metadata)."""
        data = asdict(self)
        data.pop("examples")
        data.pop("folder")
        data.pop("cache_mb")
        return data

    def _skip(self, reason: str, path: Path) -> None:
        setattr(self, reason, getattr(self, reason) + 1)
        self.examples.setdefault(reason, [])
        if len(self.examples[reason]) < 5:
            self.examples[reason].append(str(path))


def list_image_files(folder: Path) -> list[Path]:
    """Photo files under ``folder``, found as ``colorize`` finds them (recursive,
    sorted, hidden files and folders skipped, linked folders followed once)."""
    return find_photos([Path(folder)])


def decode_rgb(path: Path) -> np.ndarray:
    """Decode ``path`` to uint8 RGB with EXIF orientation applied (transparency on
    white); raise OSError if broken or not an allowed image format.

    Goes through the app's one photo loader, so a training folder is read with
    exactly the decoders ``colorize`` uses: a PostScript or PDF file named
    ``.jpg`` is refused by its magic bytes and never reaches Ghostscript."""
    try:
        return load_rgb8(Path(path))
    except PhotoError as err:
        raise OSError(str(err)) from None


def is_gray_or_sepia(rgb: np.ndarray) -> bool:
    """True when ``rgb`` has no real colour: gray, or toned with a single tint that
    follows its tone (sepia, cyanotype)."""
    mean_chroma, p99_chroma = chroma_stats(rgb)
    if p99_chroma < GRAY_P99_CHROMA:
        return True
    if p99_chroma > SEPIA_MAX_P99_CHROMA:
        return False
    step = max(1, max(rgb.shape[:2]) // 128)
    lab = rgb_to_lab(rgb[::step, ::step])
    a, b = lab[:, :, 1].ravel(), lab[:, :, 2].ravel()
    chroma = np.hypot(a, b)
    weight = chroma.sum()
    if weight <= 0:
        return True
    # Mean resultant length of the hue angle: 1 = all one hue (a tint).
    concentration = math.hypot(float(a.sum()), float(b.sum())) / float(weight)
    if concentration < SEPIA_HUE_CONCENTRATION:
        return False
    return _tone_residual(lab[:, :, 0].ravel(), a, b) < SEPIA_MAX_TONE_RESIDUAL


def _tone_residual(lightness: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """RMS of the colour that lightness does not explain: (a, b) minus their mean
    over pixels of about the same L (``_TONE_BINS`` bands of L)."""
    bands = np.clip((lightness * (_TONE_BINS / 100.0)).astype(np.intp), 0, _TONE_BINS - 1)
    count = np.maximum(np.bincount(bands, minlength=_TONE_BINS), 1)
    mean_a = np.bincount(bands, a, _TONE_BINS) / count
    mean_b = np.bincount(bands, b, _TONE_BINS) / count
    return float(np.sqrt(np.mean((a - mean_a[bands]) ** 2 + (b - mean_b[bands]) ** 2)))


def resize_short_side(rgb: np.ndarray, short: int) -> np.ndarray:
    """Resize so the short side is ``short`` pixels (area filter down, cubic up)."""
    h, w = rgb.shape[:2]
    scale = short / min(h, w)
    size = (max(short, round(w * scale)), max(short, round(h * scale)))
    if size == (w, h):
        return rgb
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, size, interpolation=interp)


def scan_photos(folder: Path, size: int, min_short_side: Optional[int] = None,
                max_images: Optional[int] = None, seed: int = 0,
                on_file: Optional[Callable[[int, int, str], None]] = None,
                should_stop: Optional[Callable[[], bool]] = None,
                keep_toned: bool = False,
                ) -> tuple[list[np.ndarray], list[Path], ScanReport]:
    """Find usable colour photos under ``folder`` and decode them into the cache.

    Returns (cached uint8 RGB images, their paths, report). Duplicates are
    detected by content hash (the first file in sorted order is kept).
    ``max_images``: stop once that many usable photos were found (files are
    visited in a seed-shuffled order so the subset is not one sub-folder).
    ``on_file(done, total, name)`` reports progress.
    ``keep_toned``: keep photos that look gray or one-tinted too. For curated
    colour sets only: their nearly gray fog and evenly tinted scenes are real
    colours that the sepia test may still take for toned prints.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"The data folder does not exist or is not a folder: {folder}")
    min_side = size // 2 if min_short_side is None else int(min_short_side)
    cache_short = int(round(size * CACHE_SCALE))
    files = list_image_files(folder)
    report = ScanReport(folder=str(folder), found=len(files))
    # Hash in sorted order so "which duplicate is kept" does not depend on the seed.
    order = list(range(len(files)))
    if max_images is not None:
        random.Random(seed).shuffle(order)
    seen: set[str] = set()
    recorded: dict[Path, frozenset[str]] = {}  # each folder's list of copies Colorizer wrote
    images: list[np.ndarray] = []
    paths: list[Path] = []
    for done, idx in enumerate(order):
        if should_stop is not None and should_stop():
            break
        path = files[idx]
        if on_file is not None:
            on_file(done, len(files), path.name)
        if max_images is not None and len(images) >= max_images:
            report.not_scanned += 1
            continue
        if path.parent not in recorded:
            recorded[path.parent] = recorded_outputs(path.parent)
        if written_by_colorizer(path, recorded[path.parent]):
            report._skip("colorized", path)
            continue
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            report._skip("corrupt", path)
            continue
        if digest in seen:
            report._skip("duplicate", path)
            continue
        seen.add(digest)
        try:
            rgb = decode_rgb(path)
        except OSError:
            report._skip("corrupt", path)
            continue
        if min(rgb.shape[:2]) < min_side:
            report._skip("tiny", path)
            continue
        if not keep_toned and is_gray_or_sepia(rgb):
            report._skip("grayscale", path)
            continue
        if min(rgb.shape[:2]) > cache_short:
            rgb = resize_short_side(rgb, cache_short)
        images.append(np.ascontiguousarray(rgb))
        paths.append(path)
    # Keep a stable order (sorted by path) whatever order the files were visited in.
    ranked = sorted(range(len(paths)), key=lambda i: str(paths[i]))
    images = [images[i] for i in ranked]
    paths = [paths[i] for i in ranked]
    report.used = len(images)
    report.cache_mb = sum(img.nbytes for img in images) / 2**20
    if on_file is not None:
        on_file(len(files), len(files), "")
    return images, paths, report


def split_indices(count: int, val_fraction: float, min_val: int, seed: int) -> tuple[list[int], list[int]]:
    """Deterministic (train, val) index lists: ``val_fraction`` of the photos,
    at least ``min_val`` where possible, always leaving at least as many to train."""
    if count < 2:
        raise DatasetError(
            f"Found {count} usable colour photo(s); at least 2 are needed (one to train on, "
            "one to check progress). Add more colour photos to the folder.")
    n_val = max(math.ceil(val_fraction * count), min_val)
    n_val = max(1, min(n_val, count // 2))
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return sorted(order[n_val:]), sorted(order[:n_val])


def to_training_pair(rgb: np.ndarray):
    """uint8 RGB (S, S, 3) -> (L_norm (1, S, S), ab_norm (2, S, S)) float32 tensors."""
    import torch

    lab = rgb_to_lab(rgb)
    l_norm = lab[:, :, 0] / np.float32(L_CENTER) - np.float32(1.0)
    ab_norm = lab[:, :, 1:] / np.float32(AB_SCALE)
    return (torch.from_numpy(np.ascontiguousarray(l_norm[None])),
            torch.from_numpy(np.ascontiguousarray(ab_norm.transpose(2, 0, 1))))


def center_view(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize the short side to ``size`` and cut the central ``size`` x ``size`` square."""
    img = resize_short_side(rgb, size)
    h, w = img.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return img[top:top + size, left:left + size]


def random_view(rgb: np.ndarray, size: int, scale_range: Sequence[float],
                rng: np.random.Generator) -> np.ndarray:
    """Random-scale resize (short side = size * U(scale_range)), random crop, random flip."""
    lo, hi = scale_range
    short = max(size, int(round(size * rng.uniform(lo, hi))))
    img = resize_short_side(rgb, short)
    h, w = img.shape[:2]
    top = int(rng.integers(0, h - size + 1))
    left = int(rng.integers(0, w - size + 1))
    img = img[top:top + size, left:left + size]
    if rng.random() < 0.5:
        img = img[:, ::-1]
    return np.ascontiguousarray(img)


class ColorPhotoDataset:
    """A torch-style dataset over cached photos.

    Items are addressed by ``(epoch, index)`` keys (``EpochSampler`` yields
    them) so each sample's augmentation is a pure function of
    (seed, epoch, index). With ``augment=False`` (validation) a plain
    ``index`` works too and gives the centre view.
    """

    def __init__(self, images: Sequence[np.ndarray], size: int, augment: bool, seed: int = 0,
                 scale_range: Sequence[float] = (1.0, 1.25), degrade: bool = False,
                 hints: bool = False) -> None:
        self.images = list(images)
        self.size = int(size)
        self.augment = augment
        self.seed = int(seed)
        self.scale_range = tuple(scale_range)
        self.degrade = degrade  # age the input L like an old scan (training/degrade.py)
        self.hints = hints      # append random hint planes from the truth (training/hints.py)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key):
        epoch, index = key if isinstance(key, tuple) else (0, key)
        rgb = self.images[index]
        if not self.augment:
            return to_training_pair(center_view(rgb, self.size))
        import torch

        from .degrade import degrade_lightness
        from .hints import sample_hints

        rng = np.random.default_rng((self.seed, epoch, index))
        view = random_view(rgb, self.size, self.scale_range, rng)
        l_norm, ab_norm = to_training_pair(view)
        if self.degrade:
            lightness = (l_norm[0].numpy() + np.float32(1.0)) * np.float32(L_CENTER)
            aged = degrade_lightness(lightness, rng)
            l_norm = torch.from_numpy(aged / np.float32(L_CENTER) - np.float32(1.0))[None]
        if self.hints:
            planes = sample_hints(ab_norm.numpy(), rng)
            l_norm = torch.cat([l_norm, torch.from_numpy(planes)], dim=0)
        return l_norm, ab_norm


class EpochSampler:
    """Yields ``(epoch, index)`` keys: a permutation that depends only on
    (seed, epoch), sharded across ``world_size`` ranks like
    ``DistributedSampler`` (padded so every rank gets the same count), with the
    first ``skip`` samples of this rank left out (resuming mid-epoch).
    """

    def __init__(self, count: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.count = count
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """Select the epoch's permutation and how many of this rank's samples are already done."""
        self.epoch = epoch
        self.skip = skip

    def per_rank(self) -> int:
        """Samples each rank sees in a full epoch."""
        return math.ceil(self.count / self.world_size)

    def __len__(self) -> int:
        return max(0, self.per_rank() - self.skip)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        order = np.random.default_rng((self.seed, 7919, self.epoch)).permutation(self.count).tolist()
        total = self.per_rank() * self.world_size
        order += order[: total - len(order)]  # pad as DistributedSampler does
        mine = order[self.rank:total:self.world_size]
        for index in mine[self.skip:]:
            yield self.epoch, index
