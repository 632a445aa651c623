"""Draw the app icon with Pillow: a little landscape photo, grey on the left and
in colour on the right. Writes assets/icon.png (256 px) and assets/icon.ico."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
ASSETS = Path(__file__).resolve().parents[1] / "assets"


def _scene(color: bool) -> Image.Image:
    """The landscape inside the photo frame, in colour or in greys."""
    img = Image.new("RGB", (SIZE, SIZE), (120, 180, 235) if color else (185, 185, 185))
    draw = ImageDraw.Draw(img)
    draw.ellipse((150, 48, 210, 108), fill=(255, 205, 60) if color else (225, 225, 225))
    draw.polygon([(20, 200), (100, 95), (180, 200)], fill=(90, 120, 150) if color else (110, 110, 110))
    draw.polygon([(90, 200), (170, 120), (240, 200)], fill=(70, 100, 130) if color else (95, 95, 95))
    draw.rectangle((20, 190, 236, 236), fill=(80, 160, 70) if color else (130, 130, 130))
    return img


def make_icon() -> Image.Image:
    """The 256 px RGBA icon."""
    grey, color = _scene(False), _scene(True)
    scene = grey.copy()
    scene.paste(color.crop((SIZE // 2, 0, SIZE, SIZE)), (SIZE // 2, 0))
    mask = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(mask).rounded_rectangle((20, 20, SIZE - 20, SIZE - 20), radius=28, fill=255)
    icon = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    frame = ImageDraw.Draw(icon)
    frame.rounded_rectangle((8, 8, SIZE - 8, SIZE - 8), radius=36, fill=(250, 246, 236, 255),
                            outline=(90, 70, 50, 255), width=6)
    icon.paste(scene, (0, 0), mask)
    ImageDraw.Draw(icon).line((SIZE // 2, 20, SIZE // 2, SIZE - 20), fill=(255, 255, 255, 255), width=5)
    return icon


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    icon = make_icon()
    icon.save(ASSETS / "icon.png")
    icon.save(ASSETS / "icon.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    print(f"wrote {ASSETS / 'icon.png'} and {ASSETS / 'icon.ico'}")


if __name__ == "__main__":
    main()
