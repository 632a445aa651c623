"""The training mix script: no test part, and no validation photo with a near copy in training."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from make_training_mix import main  # noqa: E402


def _touch(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"not read")


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_video_frames_are_held_out_by_whole_sequence_and_test_parts_never_used(tmp_path):
    data = tmp_path / "datasets"
    # Three street sequences; frames of one sequence are near copies of each other.
    _touch(data / "camvid" / "train", [f"SEQA_{i:05d}.jpg" for i in range(8)]
           + [f"SEQB_{i:05d}.jpg" for i in range(30)] + [f"SEQC_{i:05d}.jpg" for i in range(40)])
    _touch(data / "camvid" / "test", [f"SEQD_{i:05d}.jpg" for i in range(5)])
    _touch(data / "birds" / "train", [f"bird{i:03d}.jpg" for i in range(30)])
    _touch(data / "birds" / "test", ["held.jpg"])

    assert main([str(data), str(tmp_path / "mix"), "--per-kind", "100", "--val-per-kind", "5"]) == 0

    mix = tmp_path / "mix"
    val, train = _names(mix / "val" / "camvid"), _names(mix / "train" / "camvid")
    assert len(val) == 5 and {n.split("_")[0] for n in val} == {"SEQA"}  # the smallest sequence
    assert not any(n.startswith("SEQA") for n in train)                 # none of its frames trains
    assert len(train) == 70 and not any(n.startswith("SEQD") for n in train | val)
    # Other kinds: a plain held-out share, disjoint from training, never the test part.
    bird_val, bird_train = _names(mix / "val" / "birds"), _names(mix / "train" / "birds")
    assert len(bird_val) == 5 and len(bird_train) == 25 and not bird_val & bird_train
    assert "held.jpg" not in bird_val | bird_train
    assert all((mix / "train" / "birds" / n).is_symlink() for n in bird_train)


def test_a_single_sequence_still_trains(tmp_path):
    data = tmp_path / "datasets"
    _touch(data / "camvid" / "train", [f"ONLY_{i:05d}.jpg" for i in range(12)])
    assert main([str(data), str(tmp_path / "mix"), "--val-per-kind", "4"]) == 0
    val, train = _names(tmp_path / "mix" / "val" / "camvid"), _names(tmp_path / "mix" / "train" / "camvid")
    assert val == set() and len(train) == 12
