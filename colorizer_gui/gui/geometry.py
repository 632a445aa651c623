"""Window and preview geometry: fit the screen, centre dialogs, and map points
between the preview canvas and the photo.

The arithmetic is plain functions (tested without a screen); ``place_dialog``
applies it to a real Tk window. The preview draws with the same boxes the clicks
are mapped through, so what is drawn and what is hit cannot disagree.

Coordinates: canvas points are pixels from the canvas's top-left corner. Photo
points are fractions (0..1) of the upright photo's width and height, the unit of
colour hints (``core/hints.py``), so they mean the same spot on the preview copy,
the full-size photo and the saved result.
"""
from __future__ import annotations

import logging
import math
from typing import Any, NamedTuple, Optional, Sequence

log = logging.getLogger(__name__)

#: The main window never opens larger than this share of the screen.
SCREEN_SHARE = 0.9
DIALOG_BORDER = "#5f6b7a"


def fit_window(screen: tuple[int, int], wanted: tuple[int, int],
               share: float = SCREEN_SHARE) -> tuple[int, int, int, int]:
    """(width, height, x, y): ``wanted`` (e.g. the size remembered from last time)
    shrunk to at most ``share`` of the screen, and centred on it."""
    sw, sh = max(1, int(screen[0])), max(1, int(screen[1]))
    width = max(200, min(int(wanted[0]), int(sw * share)))
    height = max(150, min(int(wanted[1]), int(sh * share)))
    width, height = min(width, sw), min(height, sh)
    return width, height, (sw - width) // 2, (sh - height) // 2


def centre_over(parent: tuple[int, int, int, int], size: tuple[int, int],
                screen: tuple[int, int]) -> tuple[int, int]:
    """Top-left (x, y) that centres a ``size`` window over ``parent`` = (x, y, w, h),
    kept on the screen."""
    px, py, pw, ph = parent
    w, h = size
    x = px + (pw - w) // 2
    y = py + (ph - h) // 2
    x = max(0, min(x, screen[0] - w))
    y = max(0, min(y, screen[1] - h))
    return x, y


def place_dialog(window: Any, parent: Optional[Any]) -> None:
    """Make ``window`` look and sit like a dialog of ``parent`` (PySimpleGUI windows):
    a visible border (there may be no window manager to draw one), kept above its
    parent, centred over it. Failures are logged, never raised: a dialog placed
    badly is better than no dialog."""
    try:
        root = window.TKroot
        root.configure(highlightthickness=2, highlightbackground=DIALOG_BORDER, highlightcolor=DIALOG_BORDER)
        root.update_idletasks()
        size = (max(root.winfo_width(), root.winfo_reqwidth()), max(root.winfo_height(), root.winfo_reqheight()))
        screen = (root.winfo_screenwidth(), root.winfo_screenheight())
        if parent is not None and getattr(parent, "TKroot", None) is not None:
            proot = parent.TKroot
            root.transient(proot)
            box = (proot.winfo_rootx(), proot.winfo_rooty(), proot.winfo_width(), proot.winfo_height())
        else:
            box = (0, 0, screen[0], screen[1])
        x, y = centre_over(box, size, screen)
        root.geometry(f"+{x}+{y}")
        root.lift()
        root.focus_force()  # keys (Escape, Enter) go to the dialog, as a window manager would do
        root.update_idletasks()
    except Exception as err:  # noqa: BLE001 - cosmetic only
        log.warning("could not place dialog: %s", err)


def limit_min_size(window: Any, screen: tuple[int, int]) -> None:
    """Let a window shrink only as far as its contents stay whole (or the screen
    allows), and centre it again: the minimum may have made it larger than planned."""
    root = window.TKroot
    root.update_idletasks()
    min_w, min_h = min(root.winfo_reqwidth(), screen[0]), min(root.winfo_reqheight(), screen[1])
    root.minsize(min_w, min_h)
    width, height = max(root.winfo_width(), min_w), max(root.winfo_height(), min_h)
    width, height, x, y = fit_window(screen, (width, height), share=1.0)
    root.geometry(f"{width}x{height}+{x}+{y}")
    root.update_idletasks()


# ------------------------------------------------------------------ preview

#: Height of the label row ("Original", "Colorized") above the side-by-side and 100% panels.
LABEL_HEIGHT = 20
#: Space between the two panels of the side-by-side and 100% views.
PANEL_GAP = 8
#: The preview's view modes (the radio buttons above the canvas).
VIEWS = ("side", "compare", "zoom")


class Box(NamedTuple):
    """A rectangle on the canvas: top-left corner and size, in pixels."""

    x: int
    y: int
    width: int
    height: int

    def contains(self, point: Sequence[float]) -> bool:
        """True when ``point`` (x, y) lies inside the box."""
        return self.x <= point[0] < self.x + self.width and self.y <= point[1] < self.y + self.height


def fit_size(size: Sequence[int], bound: Sequence[int]) -> tuple[int, int]:
    """``size`` scaled down (never up) to fit in ``bound``, keeping the aspect ratio.

    The same rounding as Pillow's ``Image.thumbnail`` (the side that is cut is
    rounded to the neighbour whose aspect ratio is closest), so a box computed
    here is exactly the size of the image ``images.fit`` makes.
    """
    width, height = max(1, int(size[0])), max(1, int(size[1]))
    bw, bh = max(1, int(bound[0])), max(1, int(bound[1]))
    if bw >= width and bh >= height:
        return width, height
    aspect = width / height
    if bw / bh >= aspect:
        candidates = (math.floor(bh * aspect), math.ceil(bh * aspect))
        return max(1, min(candidates, key=lambda n: abs(aspect - n / bh))), bh
    candidates = (math.floor(bw / aspect), math.ceil(bw / aspect))
    return bw, max(1, min(candidates, key=lambda n: abs(aspect - bw / n) if n else math.inf))


def side_panel_bound(canvas: Sequence[int]) -> tuple[int, int]:
    """The largest size a photo may have in one half of the side-by-side view."""
    return max(1, (int(canvas[0]) - PANEL_GAP) // 2), max(1, int(canvas[1]) - LABEL_HEIGHT)


def side_boxes(photo: Sequence[int], canvas: Sequence[int]) -> tuple[Box, Box]:
    """Where the original (left) and the colorized photo (right) sit in the
    side-by-side view: each fitted into half the canvas below the labels and
    centred in its half. ``photo``: the pixel size of the (preview) photo."""
    width, height = fit_size(photo, side_panel_bound(canvas))
    half = int(canvas[0]) // 2
    left = Box((half - width) // 2, LABEL_HEIGHT, width, height)
    return left, Box(half + left.x, LABEL_HEIGHT, width, height)


def compare_box(photo: Sequence[int], canvas: Sequence[int]) -> Box:
    """Where the photo sits in the before/after view: fitted to the whole canvas, centred."""
    width, height = fit_size(photo, canvas)
    return Box((int(canvas[0]) - width) // 2, (int(canvas[1]) - height) // 2, width, height)


def zoom_panels(canvas: Sequence[int]) -> tuple[Box, Box]:
    """The two panels of the 100% view (original left, colorized right)."""
    half = max(1, (int(canvas[0]) - PANEL_GAP) // 2)
    height = max(1, int(canvas[1]) - LABEL_HEIGHT)
    return Box(0, LABEL_HEIGHT, half, height), Box(half + PANEL_GAP, LABEL_HEIGHT, half, height)


def zoom_crop(photo: Sequence[int], centre: Sequence[float], panel: Sequence[int]) -> Box:
    """The part of the full-size photo a 100% panel shows, in photo pixels: a
    panel-sized window centred on ``centre`` (fractions), shifted to stay inside
    the photo (smaller photos are shown whole)."""
    pw, ph = int(photo[0]), int(photo[1])
    width, height = min(int(panel[0]), pw), min(int(panel[1]), ph)
    left = int(round(centre[0] * pw - width / 2))
    top = int(round(centre[1] * ph - height / 2))
    return Box(max(0, min(pw - width, left)), max(0, min(ph - height, top)), width, height)


def photo_boxes(view: str, photo: Sequence[int], canvas: Sequence[int],
                centre: Sequence[float] = (0.5, 0.5)) -> list[tuple[Box, Box]]:
    """The (canvas box, photo box) pairs the view shows: each canvas box shows
    that photo box (in the pixels of ``photo``) scaled to fit.

    ``photo``: the preview copy's size for "side" and "compare", the full-size
    photo's for "zoom" (the 100% view shows the full-size pixels).
    """
    whole = Box(0, 0, int(photo[0]), int(photo[1]))
    if view == "compare":
        return [(compare_box(photo, canvas), whole)]
    if view == "zoom":
        panels = zoom_panels(canvas)
        crop = zoom_crop(photo, centre, (panels[0].width, panels[0].height))
        return [(Box(p.x, p.y, crop.width, crop.height), crop) for p in panels]
    return [(box, whole) for box in side_boxes(photo, canvas)]


def canvas_to_photo(view: str, point: Sequence[float], photo: Sequence[int], canvas: Sequence[int],
                    centre: Sequence[float] = (0.5, 0.5), clamp: bool = False) -> Optional[tuple[float, float]]:
    """The photo point (fractions 0..1 of the upright photo) under the canvas
    ``point``, or None when it is not on the photo. ``clamp``: a point beside the
    photo gives the nearest edge point of the nearest panel instead of None."""
    pairs = photo_boxes(view, photo, canvas, centre)
    hit = next(((screen, part) for screen, part in pairs if screen.contains(point)), None)
    if hit is None:
        if not clamp:
            return None
        hit = min(pairs, key=lambda pair: _distance(pair[0], point))
    screen, part = hit
    fx = part.x + (point[0] - screen.x) * part.width / screen.width
    fy = part.y + (point[1] - screen.y) * part.height / screen.height
    x, y = fx / max(1, int(photo[0])), fy / max(1, int(photo[1]))
    if clamp:
        x, y = min(1.0, max(0.0, x)), min(1.0, max(0.0, y))
    return x, y


def photo_to_canvas(view: str, point: Sequence[float], photo: Sequence[int], canvas: Sequence[int],
                    centre: Sequence[float] = (0.5, 0.5)) -> list[tuple[float, float]]:
    """Every canvas point where the photo point (fractions) is drawn: two in the
    side-by-side view (original and colorized), one in before/after, and in the
    100% view one per panel when the point is inside the part shown (else none)."""
    px, py = point[0] * int(photo[0]), point[1] * int(photo[1])
    found = []
    for screen, part in photo_boxes(view, photo, canvas, centre):
        if not (part.x <= px <= part.x + part.width and part.y <= py <= part.y + part.height):
            continue
        found.append((screen.x + (px - part.x) * screen.width / part.width,
                      screen.y + (py - part.y) * screen.height / part.height))
    return found


def _distance(box: Box, point: Sequence[float]) -> float:
    dx = max(box.x - point[0], 0.0, point[0] - (box.x + box.width))
    dy = max(box.y - point[1], 0.0, point[1] - (box.y + box.height))
    return math.hypot(dx, dy)
