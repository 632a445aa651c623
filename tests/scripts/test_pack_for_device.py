"""Packing a training mix for a GPU machine: small real files, never inside the project."""
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import pack_for_device  # noqa: E402


def _photo(path: Path, height: int, width: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(height)
    image = cv2.resize(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), (width, height))
    cv2.imwrite(str(path), image)


def test_links_become_small_webp_files_by_kind(tmp_path):
    data, mix, out = tmp_path / "datasets", tmp_path / "mix", tmp_path / "pack"
    _photo(data / "big.png", 720, 960)
    _photo(data / "small.jpg", 120, 160)
    (mix / "camvid").mkdir(parents=True)
    (mix / "birds").mkdir()
    (mix / "camvid" / "big.png").symlink_to(data / "big.png")
    (mix / "birds" / "small.jpg").symlink_to(data / "small.jpg")
    (mix / "birds" / "notes.txt").write_text("not a photo")

    assert pack_for_device.main([str(mix), str(out), "--short", "224"]) == 0

    big = cv2.imread(str(out / "camvid" / "big.webp"))
    small = cv2.imread(str(out / "birds" / "small.webp"))
    assert big.shape[:2] == (224, 299)      # shrunk, aspect kept
    assert small.shape[:2] == (120, 160)    # never enlarged
    assert not (out / "birds" / "notes.webp").exists()
    assert all(not p.is_symlink() for p in out.rglob("*"))


def test_refuses_a_tracked_folder_and_reports_an_overfull_pack(tmp_path):
    mix = tmp_path / "mix"
    _photo(mix / "birds" / "a.jpg", 400, 600)
    inside = pack_for_device.REPO / "bench" / "not-ignored-pack"
    assert pack_for_device.main([str(mix), str(inside)]) == 2
    assert not inside.exists()
    assert pack_for_device.main([str(mix), str(tmp_path / "pack"), "--budget-mib", "0.0001"]) == 1
