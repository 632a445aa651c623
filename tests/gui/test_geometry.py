"""The preview's geometry: where photos sit on the canvas and how canvas points
map to photo points (fractions of the upright photo) and back, in every view.

Pure arithmetic, no screen: the preview draws with these boxes and maps clicks
through them, and a colour-hint tool will place and draw its points with them.
"""
from __future__ import annotations

import pytest
from PIL import Image

from colorizer_gui.gui import geometry
from colorizer_gui.gui.geometry import (LABEL_HEIGHT, PANEL_GAP, Box, canvas_to_photo, compare_box, fit_size,
                                        photo_to_canvas, side_boxes, zoom_crop, zoom_panels)

CANVAS = (808, 520)


@pytest.mark.parametrize("size,bound", [((1024, 768), (400, 500)), ((768, 1024), (400, 500)), ((300, 200), (400, 500)),
                                        ((1000, 1), (50, 50)), ((3, 2000), (100, 100)), ((1023, 767), (399, 299))])
def test_fit_size_matches_what_pillow_makes(size, bound):
    image = Image.new("L", size)
    image.thumbnail(bound)
    assert fit_size(size, bound) == image.size


def test_side_by_side_boxes_sit_in_the_two_halves_below_the_labels():
    left, right = side_boxes((1024, 768), CANVAS)
    half_bound = ((CANVAS[0] - PANEL_GAP) // 2, CANVAS[1] - LABEL_HEIGHT)
    assert (left.width, left.height) == fit_size((1024, 768), half_bound) == (400, 300)
    assert left == Box((404 - 400) // 2, LABEL_HEIGHT, 400, 300)
    assert right == Box(404 + 2, LABEL_HEIGHT, 400, 300)
    assert left.x + left.width <= CANVAS[0] // 2 <= right.x


def test_compare_box_is_centred_on_the_whole_canvas():
    box = compare_box((1024, 768), CANVAS)
    assert (box.width, box.height) == (693, 520)
    assert box == Box((808 - 693) // 2, 0, 693, 520)


@pytest.mark.parametrize("view", ["side", "compare"])
@pytest.mark.parametrize("point", [(0.0, 0.0), (0.25, 0.75), (0.5, 0.5), (0.999, 0.001)])
def test_photo_points_go_to_the_canvas_and_back(view, point):
    photo = (1024, 768)
    drawn = photo_to_canvas(view, point, photo, CANVAS)
    assert len(drawn) == (2 if view == "side" else 1), "side by side: on the original and the colorized photo"
    for spot in drawn:
        back = canvas_to_photo(view, spot, photo, CANVAS)
        assert back == pytest.approx(point, abs=1e-9)


def test_side_by_side_shows_the_same_photo_point_in_both_halves():
    (lx, ly), (rx, ry) = photo_to_canvas("side", (0.5, 0.25), (1024, 768), CANVAS)
    left, right = side_boxes((1024, 768), CANVAS)
    assert (lx, ly) == (left.x + 200, LABEL_HEIGHT + 75)
    assert (rx - lx, ry - ly) == (right.x - left.x, 0)


def test_clicks_beside_the_photo_are_not_on_it_unless_clamped():
    photo = (1024, 768)
    assert canvas_to_photo("side", (1, 1), photo, CANVAS) is None          # the label row
    assert canvas_to_photo("compare", (10, 260), photo, CANVAS) is None     # the margin left of the photo
    assert canvas_to_photo("compare", (10, 260), photo, CANVAS, clamp=True) == pytest.approx((0.0, 0.5), abs=2e-3)
    # Left of the right-hand photo in the side-by-side view: its left edge, not the other photo's.
    left, right = side_boxes(photo, CANVAS)
    assert canvas_to_photo("side", (right.x - 1, 170), photo, CANVAS, clamp=True)[0] == 0.0


def test_zoom_crop_is_centred_and_stays_inside_the_photo():
    assert zoom_crop((4000, 3000), (0.5, 0.5), (400, 500)) == Box(1800, 1250, 400, 500)
    assert zoom_crop((4000, 3000), (0.0, 1.0), (400, 500)) == Box(0, 2500, 400, 500)
    assert zoom_crop((300, 200), (0.9, 0.9), (400, 500)) == Box(0, 0, 300, 200), "a small photo is shown whole"


def test_zoom_view_maps_both_panels_at_one_to_one():
    photo, centre = (4000, 3000), (0.25, 0.5)
    left, right = zoom_panels(CANVAS)
    assert left == Box(0, LABEL_HEIGHT, 400, 500) and right == Box(408, LABEL_HEIGHT, 400, 500)
    crop = zoom_crop(photo, centre, (400, 500))
    # The panel's top-left pixel is the crop's top-left pixel, at 100%.
    assert canvas_to_photo("zoom", (0, LABEL_HEIGHT), photo, CANVAS, centre) == (crop.x / 4000, crop.y / 3000)
    assert canvas_to_photo("zoom", (408 + 10, LABEL_HEIGHT + 20), photo, CANVAS, centre) == (
        (crop.x + 10) / 4000, (crop.y + 20) / 3000)
    # The centre point is drawn in the middle of both panels; a point outside the crop is not drawn.
    assert photo_to_canvas("zoom", centre, photo, CANVAS, centre) == [(200, LABEL_HEIGHT + 250),
                                                                    (608, LABEL_HEIGHT + 250)]
    assert photo_to_canvas("zoom", (0.9, 0.9), photo, CANVAS, centre) == []


def test_every_view_round_trips_points_it_shows():
    photo = (640, 480)
    for view in geometry.VIEWS:
        for x in range(0, CANVAS[0], 37):
            for y in range(0, CANVAS[1], 29):
                hit = canvas_to_photo(view, (x, y), photo, CANVAS)
                if hit is None:
                    continue
                spots = photo_to_canvas(view, hit, photo, CANVAS)
                assert any(abs(sx - x) < 1e-6 and abs(sy - y) < 1e-6 for sx, sy in spots), (view, x, y, spots)
