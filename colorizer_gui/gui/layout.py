"""The main window's layout (no behaviour here: app.py wires the events)."""
from __future__ import annotations

from typing import Any

import PySimpleGUI as sg

from . import events as ev, video_preview

#: The preview's smallest size; it grows with the window (app.py redraws on resize).
CANVAS_SIZE = (300, 300)  # the least; the canvas grows with the window
#: Width in characters (of SMALL) that help texts in the Settings column wrap at,
#: so a long message never runs past the window's edge.
HELP_WIDTH = 32
FONT = ("Helvetica", 11)
SMALL = ("Helvetica", 9)
RENDER_SIZES = ["auto", "224", "256", "320", "384", "512", "768"]
DEVICES = ["auto", "cpu", "cuda"]
THUMB_ROW_HEIGHT = 44
THEME = "LightGrey1"
DETAIL_TIP = "How much detail the model looks at: 'auto' suits most photos; larger is slower."
TEMPERATURE_TIP = "Zhang method only: lower gives bolder colours, higher safer ones."
HINTS_TIP = ("Click the photo to say what colour a spot was; drag a ring to move it, right-click or "
             "Delete removes it, Ctrl+Z / Ctrl+Y undo and redo")
REPAIR_TIP = ("Paint out scratches, dust, hairs and creases before colorizing (Save, Colorize and "
              "Colorize all use it). The brush adds or removes damage; Ctrl+Z / Ctrl+Y undo and redo")
SENSITIVITY_TIP = "How much the detector finds: more for heavily damaged scans"
BRUSH_SIZE_TIP = "Brush size (% of the photo's short side)"
#: The repair brush's modes: (mode, label, tooltip).
BRUSH_MODES = (("look", "Off", "Clicks look at the photo (no painting)"),
               ("add", "Add damage", "Paint where the detector missed damage"),
               ("remove", "Remove damage", "Paint over real detail the detector took for damage"))
#: The brush's radius, % of the photo's short side (least, most).
BRUSH_SIZES = (0.2, 8.0)
#: How many swatches of the colour memory are shown as buttons (all are in the list beside them).
SWATCH_BUTTONS = 8


def menu_definition() -> list[Any]:
    """The menu bar; item keys after '::' are the ``M_*`` constants."""
    return [
        ["&File", [f"&Open folder...  (Ctrl+O)::{ev.M_OPEN_FOLDER}", f"Open &photos...::{ev.M_OPEN_FILES}", "---",
                   f"&Save colorized photo  (Ctrl+S)::{ev.M_SAVE}", f"Save colorized photo &as...::{ev.M_SAVE_AS}",
                   "---", f"Open o&utput folder::{ev.M_OPEN_OUTPUT}", "---", f"E&xit::{ev.M_EXIT}"]],
        ["&Models", [f"&Installed models...::{ev.M_MODELS_SHOW}", f"&Download Zhang model...::{ev.M_MODELS_DOWNLOAD}",
                     f"I&mport model file...::{ev.M_MODELS_IMPORT}",
                     f"Choose default &cGAN model...::{ev.M_MODELS_DEFAULT}"]],
        ["Fine-&tune", [f"&Fine-tune on my colour photos...::{ev.M_FINETUNE}"]],
        ["&Help", [f"&Keyboard shortcuts::{ev.M_SHORTCUTS}", f"Open &log folder::{ev.M_OPEN_LOG}", "---",
                   f"&About Colorizer::{ev.M_ABOUT}"]],
    ]


def _label(text: str, width: int = 11) -> sg.Text:
    return sg.Text(text, size=(width, 1), pad=((0, 4), 2))


def _help(text: str, key: Any = None, lines: Any = None) -> sg.Text:
    """A small grey help text wrapped to the Settings column's width."""
    return sg.Text(text, key=key, size=(HELP_WIDTH, lines), font=SMALL, text_color="#444444", pad=((2, 0), (0, 4)))


def controls_column(backends: list[str], settings: Any) -> sg.Column:
    """Backend, device, sizes and output folder: what the user may tune."""
    backend = settings.backend if settings.backend in backends else (backends[0] if backends else "")
    render = settings.render_size if settings.render_size in RENDER_SIZES else "auto"
    rows = [
        [sg.Text("Settings", font=("Helvetica", 12, "bold"))],
        [_label("Method"), sg.Combo(backends, default_value=backend, key=ev.K_BACKEND, readonly=True,
                                    enable_events=True, size=(12, 1))],
        [_help("", key=ev.K_BACKEND_WHY)],
        [_label("Device"), sg.Combo(DEVICES, default_value=settings.device if settings.device in DEVICES else "auto",
                                    key=ev.K_DEVICE, readonly=True, enable_events=True, size=(12, 1))],
        [_help("Looking for a graphics card...", key=ev.K_DEVICE_FOUND)],
        # Help for the two expert settings is in tooltips: with it on screen, the
        # column no longer fits a 720 px high screen.
        [_label("Detail (px)"), sg.Combo(RENDER_SIZES, default_value=render, key=ev.K_RENDER, readonly=True,
                                         enable_events=True, size=(12, 1), tooltip=DETAIL_TIP)],
        [sg.Text("Colour\nstrength", size=(11, 2), pad=((0, 4), (6, 0))),
         sg.Slider((0.0, 2.0), default_value=settings.saturation, resolution=0.05, orientation="h",
                   key=ev.K_SATURATION, enable_events=True, size=(13, 14))],
        [sg.Text("Zhang\ntemperature", size=(11, 2), pad=((0, 4), (6, 0))),
         sg.Slider((0.05, 1.0), default_value=settings.temperature, resolution=0.01, orientation="h",
                   key=ev.K_TEMPERATURE, enable_events=True, size=(13, 14), tooltip=TEMPERATURE_TIP)],
        [sg.HorizontalSeparator()],
        [sg.Text("Save colour copies in")],
        [sg.Input(settings.output_folder, key=ev.K_OUTDIR, size=(14, 1), enable_events=True,
                  tooltip="Left empty, each colour copy goes into a 'colorized' folder beside its photo"),
         sg.FolderBrowse("Choose...", target=ev.K_OUTDIR, key=ev.K_OUTDIR_BROWSE)],
        [_help("Empty: 'colorized' beside the photos.")],
        [sg.Checkbox("Skip photos done before", default=settings.skip_existing, key=ev.K_SKIP_EXISTING,
                     enable_events=True, tooltip="Leave out photos whose colour copy is already in the output folder")],
        [sg.Checkbox("Redo colour photos too", default=settings.recolor, key=ev.K_RECOLOR,
                     enable_events=True, tooltip="Photos that already have colour are normally skipped")],
        *repair_controls(settings),
    ]
    return sg.Column(rows, vertical_alignment="top", pad=((6, 10), 0))


def files_column() -> sg.Column:
    """The photo list: thumbnail, name and status per photo."""
    tree = sg.Tree(data=sg.TreeData(), headings=["Status"], col0_heading="Photo", col0_width=16,
                   col_widths=[10], auto_size_columns=False, num_rows=5, row_height=THUMB_ROW_HEIGHT,
                   key=ev.K_FILES, enable_events=True, select_mode=sg.TABLE_SELECT_MODE_EXTENDED,
                   show_expanded=False, expand_x=True, expand_y=True)
    rows = [
        [sg.Button("Open folder...", key=ev.K_OPEN_FOLDER), sg.Button("Open photos...", key=ev.K_OPEN_FILES)],
        [tree],
    ]
    return sg.Column(rows, vertical_alignment="top", expand_y=True, pad=(6, 0))


def hint_rows(settings: Any) -> list[list[Any]]:
    """The colour-hint tool, under the view controls, in three short rows (the
    preview column is narrow on a 1024 px screen): the "Colour hints" toggle, the
    current colour and the colour memory as swatches; the memory by name, the
    system colour chooser and the eyedropper; "Remember colour..." and "Clear
    hints". hint_tool.py keeps the colours up to date."""
    from .hint_editor import swatches_from_settings

    swatches = swatches_from_settings(getattr(settings, "swatches", []))
    first_name, first_rgb = swatches[0]
    first: list[Any] = [
        sg.Checkbox("Colour hints", key=ev.K_HINTS, enable_events=True, font=("Helvetica", 10, "bold"),
                    tooltip=HINTS_TIP, pad=((0, 6), 0)),
        sg.Text("", key=ev.K_HINT_CHIP, size=(3, 1), background_color=hex_color(first_rgb),
                relief=sg.RELIEF_SUNKEN, border_width=2, pad=((0, 8), 0),
                tooltip="The colour a click gives (the next hint)"),
    ]
    for index in range(SWATCH_BUTTONS):
        name, rgb = swatches[index] if index < len(swatches) else ("", (200, 200, 200))
        first.append(sg.Text("", key=(ev.K_HINT_SWATCH, index), size=(2, 1), pad=(1, 0), font=SMALL,
                             background_color=hex_color(rgb), relief=sg.RELIEF_RAISED, border_width=1,
                             enable_events=True, tooltip=name or None, visible=index < len(swatches)))
    second = [
        sg.Combo([name for name, _ in swatches], default_value=first_name, key=ev.K_HINT_MEMORY,
                 readonly=True, enable_events=True, size=(13, 1), font=SMALL, pad=((0, 4), 0),
                 tooltip="The colour memory: the colours you named, for every photo"),
        sg.Button("Choose...", key=ev.K_HINT_CHOOSE, font=SMALL, pad=(2, 0), tooltip="Any colour (colour chooser)"),
        sg.Button("Pick from result", key=ev.K_HINT_PICK, font=SMALL, pad=(2, 0),
                  tooltip="Eyedropper: click the colorized photo to take its colour"),
    ]
    third = [
        sg.Button("Remember colour...", key=ev.K_HINT_REMEMBER, font=SMALL, pad=((0, 2), 0),
                  tooltip="Name this colour and keep it for every photo (\"Dad's uniform\")"),
        sg.Button("Clear hints", key=ev.K_HINT_CLEAR, font=SMALL, pad=(2, 0),
                  tooltip="Remove every hint of this photo (Ctrl+Z brings them back)"),
    ]
    return [first, second, third]


def repair_controls(settings: Any) -> list[list[Any]]:
    """The repair tool's settings, at the foot of the Settings column: the
    "Repair" toggle and "Show damage"; "Restore contrast" and "Clear brush"; the
    sensitivity ("Find") and the brush's size. repair_tool.py enables the rest
    while Repair is on; the brush's modes are under the preview (``brush_row``)."""
    sensitivity = min(1.0, max(0.0, float(getattr(settings, "repair_sensitivity", 0.5))))
    size = min(BRUSH_SIZES[1], max(BRUSH_SIZES[0], float(getattr(settings, "repair_brush", 1.0))))
    return [
        [sg.HorizontalSeparator()],
        [sg.Checkbox("Repair", key=ev.K_REPAIR, enable_events=True, font=("Helvetica", 11, "bold"),
                     tooltip=REPAIR_TIP, pad=((0, 6), 0)),
         sg.Checkbox("Show damage", key=ev.K_REPAIR_SHOW, default=True, enable_events=True, font=SMALL,
                     disabled=True, pad=(2, 0), tooltip="Mark in red what will be painted out")],
        [sg.Checkbox("Restore contrast", key=ev.K_REPAIR_CONTRAST, enable_events=True, font=SMALL,
                     disabled=True, pad=(0, 0), tooltip="Faded prints: stretch the tones and lift local contrast"),
         sg.Button("Clear brush", key=ev.K_REPAIR_CLEAR, font=SMALL, pad=((6, 0), 0), disabled=True,
                   tooltip="Remove every brush stroke of this photo (Ctrl+Z brings them back)")],
        [sg.Text("Find", font=SMALL, pad=((0, 2), 0), tooltip=SENSITIVITY_TIP),
         sg.Slider((0.0, 1.0), default_value=sensitivity, resolution=0.05, orientation="h",
                   key=ev.K_REPAIR_SENSITIVITY, enable_events=True, size=(8, 10), font=SMALL,
                   disable_number_display=True, disabled=True, tooltip=SENSITIVITY_TIP, pad=(0, 0)),
         sg.Text("Size", font=SMALL, pad=((8, 2), 0), tooltip=BRUSH_SIZE_TIP),
         sg.Slider(BRUSH_SIZES, default_value=size, resolution=0.1, orientation="h", key=ev.K_REPAIR_SIZE,
                   enable_events=True, size=(7, 10), font=SMALL, disable_number_display=True, disabled=True,
                   pad=(0, 0), tooltip=BRUSH_SIZE_TIP)],
    ]


def brush_row() -> list[Any]:
    """The repair brush's modes, under the colour hints (enabled while Repair is on)."""
    row: list[Any] = [sg.Text("Repair brush", font=SMALL, pad=((0, 2), 0))]
    for mode, text, tip in BRUSH_MODES:
        row.append(sg.Radio(text, "REPAIR-BRUSH", key=(ev.K_REPAIR_BRUSH, mode), default=mode == "look",
                            enable_events=True, font=SMALL, disabled=True, pad=(1, 0), tooltip=tip))
    return row


def hex_color(rgb: Any) -> str:
    """'#rrggbb' for an (r, g, b) of 0..255."""
    return "#%02x%02x%02x" % tuple(int(c) for c in rgb[:3])


def preview_column(settings: Any) -> sg.Column:
    """The preview canvas with its view modes and compare slider."""
    width, height = CANVAS_SIZE
    view = settings.view if settings.view in ("side", "compare", "zoom") else "side"
    rows = [
        [sg.Radio("Side by side", "VIEW", key=(ev.K_VIEW, "side"), default=view == "side", enable_events=True),
         sg.Radio("Before / after", "VIEW", key=(ev.K_VIEW, "compare"), default=view == "compare",
                  enable_events=True),
         sg.Radio("100%", "VIEW", key=(ev.K_VIEW, "zoom"), default=view == "zoom",
                  enable_events=True, tooltip="Actual pixels: click the photo where you want to look")],
        *hint_rows(settings),
        brush_row(),
        # Top-left origin in pixels: drawing coordinates stay pixels however large
        # the canvas grows (app.py reads its real size on resize).
        [sg.Graph(CANVAS_SIZE, (0, height), (width, 0), key=ev.K_CANVAS, background_color="#2b2b2b",
                  enable_events=True, drag_submits=True, pad=(0, 4), expand_x=True, expand_y=True)],
        video_preview.frame_row(),
        [sg.Text("Before", font=SMALL), sg.Slider((0, 100), default_value=50, orientation="h", key=ev.K_SPLIT,
                                                  enable_events=True, size=(20, 12),
                                                  disable_number_display=True, expand_x=True),
         sg.Text("After", font=SMALL)],
        [sg.Text("", key=ev.K_CAPTION, size=(34, 2), font=SMALL, expand_x=True)],
    ]
    return sg.Column(rows, vertical_alignment="top", pad=(6, 0), expand_x=True, expand_y=True)


def action_row() -> list[Any]:
    """Colorize / Cancel / Save buttons and the progress bar."""
    return [
        sg.Button("Colorize selected", key=ev.K_COLORIZE_SEL, disabled=True, tooltip="Ctrl+Enter"),
        sg.Button("Colorize all", key=ev.K_COLORIZE_ALL, disabled=True, button_color=("white", "#2e7d32")),
        sg.Button("Cancel", key=ev.K_CANCEL, disabled=True),
        sg.Button("Save", key=ev.K_SAVE, disabled=True, tooltip="Save the photo in the preview at full size (Ctrl+S)"),
        sg.Button("Save as...", key=ev.K_SAVE_AS, disabled=True),
        sg.Button("Output folder", key=ev.K_OPEN_OUTPUT, disabled=True,
                  tooltip="Open the folder the colour copies were saved in"),
        sg.ProgressBar(100, orientation="h", size=(10, 18), key=ev.K_PROGRESS),
        sg.Text("", key=ev.K_PROGRESS_TEXT, size=(17, 2), font=SMALL),  # count, then ETA below
    ]


def main_layout(backends: list[str], settings: Any) -> list[list[Any]]:
    """The whole main window."""
    return [
        [sg.Menu(menu_definition(), key="-MENU-")],
        [sg.Text("Open a folder of scans, or drop photos and folders anywhere on this window.",
                 key=ev.K_DROP_HINT, font=("Helvetica", 12))],
        [files_column(), preview_column(settings), sg.VerticalSeparator(), controls_column(backends, settings)],
        action_row(),
        [sg.StatusBar("Starting...", key=ev.K_STATUS, size=(60, 1), expand_x=True)],
    ]
