"""Event keys: tuple constants, one module, so workers and the event loop agree.

A worker posts ``window.write_event_value((JOB, PHASE), value)``; the loop routes
on the tuple. Every job ends by posting exactly one of DONE, ERROR or CANCELLED.
"""
from __future__ import annotations

# Phases of a background job.
PROGRESS = "progress"
ITEM = "item"          # one photo finished (batch) or one thumbnail ready
DONE = "done"
ERROR = "error"
CANCELLED = "cancelled"
ENDINGS = (DONE, ERROR, CANCELLED)

# Jobs.
BATCH = "batch"
PREVIEW = "preview"
FULLRES = "fullres"      # full-resolution colorization of the current photo (100% view)
SAVE = "save"
DOWNLOAD = "download"
IMPORT = "import"
WARMUP = "warmup"        # imports torch in the background, detects CUDA
THUMBS = "thumbs"
SCAN = "scan"            # finding photos in folders
TRAIN = "train"          # fine-tuning subprocess
CHECK = "check"          # which backends can run (availability may open model files)
COUNT = "count"          # fine-tune dialog: how many photos the chosen folder holds
INSTALL = "install"      # fine-tune dialog: copy the trained model into the models folder

# Things that are not jobs.
DROP = ("dnd", "drop")               # value: list of paths dropped on the window

# Element keys of the main window.
K_FILES = "-FILES-"
K_CANVAS = "-CANVAS-"
K_VIEW = "-VIEW-"
K_SPLIT = "-SPLIT-"
K_BACKEND = "-BACKEND-"
K_BACKEND_WHY = "-BACKEND-WHY-"
K_DEVICE = "-DEVICE-"
K_DEVICE_FOUND = "-DEVICE-FOUND-"
K_RENDER = "-RENDER-"
K_SATURATION = "-SATURATION-"
K_TEMPERATURE = "-TEMPERATURE-"
K_OUTDIR = "-OUTDIR-"
K_OUTDIR_BROWSE = "-OUTDIR-BROWSE-"
K_SKIP_EXISTING = "-SKIP-EXISTING-"
K_RECOLOR = "-RECOLOUR-"
K_COLORIZE_SEL = "-COLORIZE-SELECTED-"
K_COLORIZE_ALL = "-COLORIZE-ALL-"
K_CANCEL = "-CANCEL-"
K_SAVE = "-SAVE-"
K_SAVE_AS = "-SAVE-AS-"
K_PROGRESS = "-PROGRESS-"
K_PROGRESS_TEXT = "-PROGRESS-TEXT-"
K_STATUS = "-STATUS-"
K_OPEN_FOLDER = "-OPEN-FOLDER-"
K_OPEN_FILES = "-OPEN-FILES-"
K_OPEN_OUTPUT = "-OPEN-OUTPUT-"
K_DROP_HINT = "-DROP-HINT-"
K_CAPTION = "-CAPTION-"
# The colour-hint tool (hint_tool.py).
K_HINTS = "-HINTS-"                  # the "Colour hints" toggle
K_HINT_CHIP = "-HINT-CHIP-"          # the current colour, shown as a patch
K_HINT_SWATCH = "-HINT-SWATCH-"      # (K_HINT_SWATCH, i): the colour memory's i-th swatch button
K_HINT_MEMORY = "-HINT-MEMORY-"      # the colour memory by name (all of it)
K_HINT_CHOOSE = "-HINT-CHOOSE-"      # the system colour chooser
K_HINT_REMEMBER = "-HINT-REMEMBER-"  # name the current colour and keep it
K_HINT_PICK = "-HINT-PICK-"          # eyedropper: the next click samples the colorized preview
K_HINT_CLEAR = "-HINT-CLEAR-"
# The repair tool (repair_tool.py).
K_REPAIR = "-REPAIR-"                    # the "Repair" toggle
K_REPAIR_SHOW = "-REPAIR-SHOW-"          # "Show damage": the overlay of what is painted out
K_REPAIR_CONTRAST = "-REPAIR-CONTRAST-"  # "Restore contrast" of faded prints
K_REPAIR_SENSITIVITY = "-REPAIR-SENSITIVITY-"
K_REPAIR_BRUSH = "-REPAIR-BRUSH-"        # (K_REPAIR_BRUSH, mode): "look", "add" or "remove"
K_REPAIR_SIZE = "-REPAIR-SIZE-"          # the brush's radius, % of the photo's short side
K_REPAIR_CLEAR = "-REPAIR-CLEAR-"        # remove every brush stroke of the photo
#: The Graph posts K_CANVAS on press and while dragging (drag_submits), then this on release.
CANVAS_UP = K_CANVAS + "+UP"
#: A right click on the preview (bound on the canvas; the position is in its user_bind_event).
CANVAS_RIGHT = K_CANVAS + "+RIGHT"

# Keyboard shortcuts (bound with window.bind).
SHORT_OPEN = "-SHORTCUT-OPEN-"
SHORT_COLORIZE = "-SHORTCUT-COLORIZE-"
SHORT_SAVE = "-SHORTCUT-SAVE-"
SHORT_ESCAPE = "-SHORTCUT-ESCAPE-"
SHORT_UNDO = "-SHORTCUT-UNDO-"
SHORT_REDO = "-SHORTCUT-REDO-"
SHORT_DELETE = "-SHORTCUT-DELETE-"
#: The preview canvas changed size (its <Configure> event; PySimpleGUI appends the suffix to the key).
CANVAS_RESIZE_SUFFIX = "+RESIZED"
CANVAS_RESIZED = K_CANVAS + CANVAS_RESIZE_SUFFIX

# Menu item keys ("Text::key" in PySimpleGUI menus).
M_OPEN_FOLDER = "open_folder"
M_OPEN_FILES = "open_files"
M_SAVE = "save"
M_SAVE_AS = "save_as"
M_OPEN_OUTPUT = "open_output"
M_EXIT = "exit"
M_MODELS_SHOW = "models_show"
M_MODELS_DOWNLOAD = "models_download"
M_MODELS_IMPORT = "models_import"
M_MODELS_DEFAULT = "models_default"
M_FINETUNE = "finetune"
M_ABOUT = "about"
M_SHORTCUTS = "shortcuts"
M_OPEN_LOG = "open_log"


def menu_key(event: object) -> str:
    """The key part of a menu event ``'Text::key'`` (or '' when it is not a menu event)."""
    if isinstance(event, str) and "::" in event:
        return event.rsplit("::", 1)[1]
    return ""
