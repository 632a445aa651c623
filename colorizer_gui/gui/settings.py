"""Settings remembered between runs, kept as JSON in the user's config folder and
written atomically (``core.atomic``)."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Optional

from ..core import paths
from ..core.atomic import atomic_write_text
from ..core.repair import DEFAULT_SENSITIVITY

log = logging.getLogger(__name__)
SETTINGS_NAME = "gui-settings.json"


@dataclass
class Settings:
    """What the window remembers. Unknown or broken values fall back to defaults."""

    last_folder: str = ""
    backend: str = ""
    device: str = "auto"
    render_size: str = "auto"
    saturation: float = 1.0
    temperature: float = 0.38
    output_folder: str = ""
    skip_existing: bool = True
    recolor: bool = False
    window_size: tuple[int, int] = (1250, 740)
    view: str = "side"
    finetune_preset: str = "quick"
    finetune_folder: str = ""
    finetune_last_run: str = ""
    # Measured training speed per device ("cpu"/"cuda") in images/s at 256 px.
    train_speed: dict[str, float] = field(default_factory=dict)
    # The colour memory: named swatches [{"name": ..., "rgb": [r, g, b]}], newest first
    # (``hint_editor.swatches_from_settings`` reads it, skipping anything malformed).
    swatches: list[dict[str, Any]] = field(default_factory=list)
    # The repair tool: the detector's sensitivity (0..1) and the brush's radius
    # (% of the photo's short side); the Repair toggle itself starts off each time.
    repair_sensitivity: float = DEFAULT_SENSITIVITY
    repair_brush: float = 1.0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        data = asdict(self)
        data["window_size"] = list(self.window_size)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Settings":
        """Build from a dict, keeping defaults for anything missing or of the wrong type."""
        base = cls()
        if "recolour" in data and "recolor" not in data:  # settings written before the key was spelled "recolor"
            data = {**data, "recolor": data["recolour"]}
        for item in fields(cls):
            if item.name not in data:
                continue
            value, default = data[item.name], getattr(base, item.name)
            try:
                if isinstance(default, tuple):
                    value = tuple(int(v) for v in value)[:2]
                    if len(value) != 2:
                        continue
                elif isinstance(default, bool):
                    value = bool(value)
                elif isinstance(default, float):
                    value = float(value)
                elif isinstance(default, str):
                    value = str(value)
                elif isinstance(default, dict):
                    value = {str(k): float(v) for k, v in dict(value).items()}
                elif isinstance(default, list):
                    if not isinstance(value, list):
                        continue
                    value = list(value)
            except (TypeError, ValueError):
                continue
            setattr(base, item.name, value)
        return base


def settings_file(folder: Optional[Path] = None) -> Path:
    """Where the settings live (``folder`` overrides the user's config folder)."""
    return (Path(folder) if folder else paths.user_config_dir()) / SETTINGS_NAME


def load_settings(folder: Optional[Path] = None) -> Settings:
    """Read the settings; a missing or damaged file gives the defaults (and a log line)."""
    target = settings_file(folder)
    try:
        return Settings.from_json(json.loads(target.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError, TypeError) as err:
        log.warning("Could not read settings %s (%s); using defaults", target, err)
        return Settings()


def save_settings(settings: Settings, folder: Optional[Path] = None) -> Path:
    """Write the settings atomically; returns the file path."""
    return atomic_write_text(settings_file(folder), json.dumps(settings.to_json(), indent=2))
