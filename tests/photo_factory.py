"""Build small real photo files for tests: every format, bit depth and quirk the
loader must handle. Each ``make_*`` writes a file and returns its path (some also
return the pixels the file should decode to). Nothing here uses the code under test.
"""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
from PIL import Image, ImageCms

# ---------------------------------------------------------------- pixel makers


def asymmetric_rgb(height: int = 32, width: int = 48) -> np.ndarray:
    """An upright test card with four differently coloured quadrants (red top-left,
    green top-right, blue bottom-left, white bottom-right): every flip or turn
    of it looks different."""
    img = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    img[:h2, :w2] = (220, 30, 30)
    img[:h2, w2:] = (30, 200, 40)
    img[h2:, :w2] = (30, 40, 220)
    img[h2:, w2:] = (240, 240, 240)
    return img


def quadrant_means(rgb: np.ndarray) -> np.ndarray:
    """Mean colour of the four quadrants (TL, TR, BL, BR), as a (4, 3) float array."""
    h, w = rgb.shape[:2]
    h2, w2 = h // 2, w // 2
    pad_y, pad_x = max(1, h // 8), max(1, w // 8)
    parts = [rgb[:h2 - pad_y, :w2 - pad_x], rgb[:h2 - pad_y, w2 + pad_x:],
             rgb[h2 + pad_y:, :w2 - pad_x], rgb[h2 + pad_y:, w2 + pad_x:]]
    return np.array([p.reshape(-1, 3).mean(axis=0) for p in parts])


def color_scene(height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    """A small synthetic colour snapshot: blue sky gradient, green grass, a red
    door, a yellow sign, a skin-tone face and a little sensor noise (uint8 RGB)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.float32)
    horizon = height // 2
    t = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None]
    img[:horizon] = (1 - t)[..., None] * np.array([70, 120, 210]) + t[..., None] * np.array([170, 200, 235])
    img[horizon:] = np.array([60, 140, 50])
    img[height // 3: height - 10, 10:34] = (170, 30, 35)
    img[10:30, width - 50: width - 10] = (230, 200, 40)
    cy, cx = height // 2, width // 2
    yy, xx = np.mgrid[:height, :width]
    img[(yy - cy) ** 2 + (xx - cx) ** 2 < (height // 6) ** 2] = (224, 172, 140)
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def gray_scene(height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    """The luminance of ``colour_scene``: a black-and-white photo (uint8, 2-D)."""
    return cv2.cvtColor(color_scene(height, width, seed), cv2.COLOR_RGB2GRAY)


def sepia_tone(gray: np.ndarray, method: str = "matrix") -> np.ndarray:
    """Tone a gray photo brown as an old print would be (uint8 RGB).

    ``matrix``: the classic sepia matrix with clipping in the highlights;
    ``lab``: a brown tint in Lab whose strength follows the midtones, as in a
    chemically toned print.
    """
    g = gray.astype(np.float32)
    if method == "matrix":
        rgb = np.stack([g * 1.07, g * 0.74, g * 0.43], axis=2) + 20.0
        return np.clip(rgb, 0, 255).astype(np.uint8)
    L = g / 255.0 * 100.0
    strength = np.sin(np.pi * L / 100.0) * 22.0  # most tint in the midtones
    lab = np.stack([L, strength * 0.45, strength * 0.9], axis=2).astype(np.float32)
    rgb = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0, 1)
    return np.rint(rgb * 255).astype(np.uint8)


def ramp16(height: int = 24, width: int = 40, color: bool = True) -> np.ndarray:
    """uint16 pixels using values no 8-bit image can hold (odd, not multiples of 257)."""
    y, x = np.mgrid[:height, :width]
    base = (x * 1601 + y * 977 + 3) % 65535
    if not color:
        return base.astype(np.uint16)
    return np.stack([base, (base * 7 + 11) % 65535, 65535 - base], axis=2).astype(np.uint16)


# ---------------------------------------------------------------- metadata


def srgb_icc() -> bytes:
    """ICC bytes of an sRGB profile (from LittleCMS)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def gray_icc() -> bytes:
    """A valid-looking ICC profile whose colour space is GRAY (sRGB header patched)."""
    data = bytearray(srgb_icc())
    data[16:20] = b"GRAY"
    return bytes(data)


def exif_bytes(orientation: Optional[int] = None, make: str = "TestCam", model: str = "Model 1",
               date: str = "1962:07:14 10:00:00") -> bytes:
    """EXIF with camera make/model, a date in the Exif sub-IFD and optionally an orientation."""
    exif = Image.Exif()
    exif[271] = make
    exif[272] = model
    if orientation is not None:
        exif[274] = orientation
    exif[0x8769] = {36867: date}  # DateTimeOriginal
    return exif.tobytes()


# ---------------------------------------------------------------- writers


def _save_pil(path: Path, image: Image.Image, fmt: str, **params) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt, **{k: v for k, v in params.items() if v is not None})
    return path


def make_jpeg(path: Path, pixels: Optional[np.ndarray] = None, quality: int = 95,
              exif: Optional[bytes] = None, icc: Optional[bytes] = None,
              dpi: Optional[tuple] = None) -> Path:
    """Write a JPEG (gray for 2-D pixels, RGB for 3-D); default pixels: ``colour_scene``."""
    pixels = color_scene() if pixels is None else pixels
    return _save_pil(path, Image.fromarray(pixels), "JPEG", quality=quality, exif=exif,
                     icc_profile=icc, dpi=dpi, subsampling=0)


def make_png(path: Path, pixels: Optional[np.ndarray] = None, alpha: Optional[np.ndarray] = None,
             exif: Optional[bytes] = None, icc: Optional[bytes] = None,
             dpi: Optional[tuple] = None) -> Path:
    """Write an 8-bit PNG (L, LA, RGB or RGBA depending on ``pixels`` and ``alpha``)."""
    pixels = color_scene() if pixels is None else pixels
    arr = pixels if alpha is None else np.dstack([pixels, alpha])
    return _save_pil(path, Image.fromarray(np.ascontiguousarray(arr)), "PNG", exif=exif,
                     icc_profile=icc, dpi=dpi)


def make_tiff(path: Path, pixels: Optional[np.ndarray] = None, compression: str = "tiff_lzw",
              exif: Optional[bytes] = None, icc: Optional[bytes] = None,
              dpi: Optional[tuple] = None) -> Path:
    """Write an 8-bit (or 16-bit gray) TIFF with Pillow."""
    pixels = color_scene() if pixels is None else pixels
    image = Image.fromarray(pixels)
    return _save_pil(path, image, "TIFF", compression=compression, exif=exif, icc_profile=icc, dpi=dpi)


def make_bmp(path: Path, pixels: Optional[np.ndarray] = None) -> Path:
    """Write a plain BMP."""
    pixels = color_scene() if pixels is None else pixels
    return _save_pil(path, Image.fromarray(pixels), "BMP")


def make_webp(path: Path, pixels: Optional[np.ndarray] = None, lossless: bool = False,
              alpha: Optional[np.ndarray] = None) -> Path:
    """Write a WebP, lossy (quality 90) or lossless."""
    pixels = color_scene() if pixels is None else pixels
    arr = pixels if alpha is None else np.dstack([pixels, alpha])
    return _save_pil(path, Image.fromarray(np.ascontiguousarray(arr)), "WEBP", lossless=lossless,
                     quality=90 if not lossless else 100)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _insert_after_ihdr(png: bytes, chunks: bytes) -> bytes:
    assert png[12:16] == b"IHDR"
    return png[:33] + chunks + png[33:]


def make_png16(path: Path, pixels: Optional[np.ndarray] = None, alpha: Optional[np.ndarray] = None,
               exif: Optional[bytes] = None, icc: Optional[bytes] = None) -> Path:
    """Write a 16-bit PNG (gray or RGB, optional alpha) with OpenCV, adding eXIf and
    iCCP chunks by hand when asked (Pillow cannot write 16-bit colour)."""
    pixels = ramp16() if pixels is None else pixels
    if pixels.ndim == 2 and alpha is not None:
        data = _png16_gray_alpha(pixels, alpha)  # OpenCV cannot write gray+alpha
    else:
        arr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if pixels.ndim == 3 else pixels
        if alpha is not None:
            arr = np.dstack([arr, alpha])
        ok, buf = cv2.imencode(".png", arr)
        assert ok
        data = buf.tobytes()
    extra = b""
    if icc:
        extra += png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(icc))
    if exif:
        extra += png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    path = Path(path)
    path.write_bytes(_insert_after_ihdr(data, extra))
    return path


def _png16_gray_alpha(gray: np.ndarray, alpha: np.ndarray) -> bytes:
    """A 16-bit gray+alpha PNG (colour type 4) written chunk by chunk."""
    h, w = gray.shape
    rows = np.dstack([gray, alpha]).astype(">u2").reshape(h, -1).view(np.uint8)  # big-endian samples
    raw = np.hstack([np.zeros((h, 1), np.uint8), rows]).tobytes()  # filter type 0 per row
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 4, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def make_tiff16(path: Path, pixels: Optional[np.ndarray] = None) -> Path:
    """Write a 16-bit RGB TIFF (LZW) with OpenCV."""
    pixels = ramp16() if pixels is None else pixels
    arr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if pixels.ndim == 3 else pixels
    ok, buf = cv2.imencode(".tiff", arr)
    assert ok
    path = Path(path)
    path.write_bytes(buf.tobytes())
    return path


def make_cmyk_jpeg(path: Path, rgb: Optional[np.ndarray] = None, icc: Optional[bytes] = None) -> Path:
    """Write a CMYK JPEG the way Photoshop does (Pillow stores Adobe-inverted CMYK
    with an APP14 Adobe marker). Returns the path; the expected RGB is ``rgb``."""
    rgb = asymmetric_rgb() if rgb is None else rgb
    cmyk = Image.fromarray(rgb).convert("CMYK")
    return _save_pil(path, cmyk, "JPEG", quality=98, icc_profile=icc)


def make_palette_png(path: Path, transparent_index: Optional[int] = 0, gray: bool = False) -> tuple[Path, np.ndarray]:
    """Write a palette ('P') PNG, index ``transparent_index`` transparent (tRNS).

    Returns (path, index map): pixel (y, x) uses palette entry index[y, x].
    """
    index = (np.arange(16 * 24).reshape(16, 24) % 4).astype(np.uint8)
    image = Image.frombytes("P", (24, 16), index.tobytes())
    if gray:
        palette = [0, 0, 0, 80, 80, 80, 160, 160, 160, 250, 250, 250]
    else:
        palette = [0, 0, 0, 200, 20, 20, 20, 200, 20, 20, 20, 200]
    image.putpalette(palette)
    params = {} if transparent_index is None else {"transparency": transparent_index}
    return _save_pil(path, image, "PNG", **params), index


def orientation_source(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels that EXIF ``orientation`` turns into ``upright`` (Pillow's
    own transposes, the inverse of what an EXIF-aware viewer applies)."""
    T = Image.Transpose
    inverse = {
        1: None,
        2: T.FLIP_LEFT_RIGHT,
        3: T.ROTATE_180,
        4: T.FLIP_TOP_BOTTOM,
        5: T.TRANSPOSE,
        6: T.ROTATE_90,     # viewers turn it 90 degrees clockwise
        7: T.TRANSVERSE,
        8: T.ROTATE_270,    # viewers turn it 90 degrees counter-clockwise
    }[orientation]
    image = Image.fromarray(upright)
    return np.asarray(image if inverse is None else image.transpose(inverse))


def make_exif_rotated_jpeg(path: Path, orientation: int, upright: Optional[np.ndarray] = None) -> tuple[Path, np.ndarray]:
    """Write a JPEG whose stored pixels need EXIF ``orientation`` (1-8) to look like
    ``upright`` (default ``asymmetric_rgb()``). Returns (path, upright pixels)."""
    upright = asymmetric_rgb() if upright is None else upright
    stored = orientation_source(upright, orientation)
    return make_jpeg(path, stored, exif=exif_bytes(orientation)), upright


def make_exif_rotated_png16(path: Path, orientation: int) -> tuple[Path, np.ndarray]:
    """A 16-bit RGB PNG with an eXIf orientation; returns (path, upright uint16 pixels)."""
    upright = ramp16(20, 30)
    # Same inverse transposes as orientation_source, applied per channel.
    stored = np.stack([orientation_source(upright[:, :, c], orientation) for c in range(3)],
                      axis=2).astype(np.uint16)
    return make_png16(path, stored, exif=exif_bytes(orientation)), upright


def make_truncated(path: Path, source: Path, keep: float = 0.5) -> Path:
    """Copy the first ``keep`` fraction of ``source``'s bytes to ``path``, as an
    interrupted copy would leave it."""
    data = Path(source).read_bytes()
    Path(path).write_bytes(data[: max(1, int(len(data) * keep))])
    return Path(path)


def make_random_bytes(path: Path, size: int = 4096, seed: int = 0) -> Path:
    """Write ``size`` random bytes (not an image, whatever the name says)."""
    Path(path).write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return Path(path)


def make_png_bomb(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A tiny PNG whose header declares a huge 1-bit image (a decompression bomb):
    valid signature and IHDR, one small IDAT, IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    Path(path).write_bytes(data)
    return Path(path)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    """Encode a Pillow image to bytes in memory."""
    bio = io.BytesIO()
    image.save(bio, format=fmt, **params)
    return bio.getvalue()


# ---------------------------------------------------------------- TIFF and PNG quirks


def raw_tiff(path: Path, data: bytes, width: int, height: int, samples: int, bits: int,
             sample_format: int = 1, extra: Optional[dict[int, int]] = None) -> Path:
    """Write an uncompressed little-endian TIFF by hand, one strip, for layouts
    Pillow cannot write (12-bit, 32-bit unsigned, float RGB). ``data`` is the
    strip exactly as stored; ``extra``: more SHORT tags (e.g. {274: 6})."""
    entries = {256: (4, [width]), 257: (4, [height]), 258: (3, [bits] * samples), 259: (3, [1]),
               262: (3, [2 if samples >= 3 else 1]), 273: (4, [0]), 277: (3, [samples]),
               278: (4, [height]), 279: (4, [len(data)]), 339: (3, [sample_format] * samples)}
    for tag, value in (extra or {}).items():
        entries[tag] = (3, [value])
    ifd_at = 8
    count = len(entries)
    after_ifd = ifd_at + 2 + 12 * count + 4
    blobs, table = b"", b""
    for tag in sorted(entries):
        kind, values = entries[tag]
        packed = struct.pack("<" + ("H" if kind == 3 else "I") * len(values), *values)
        if tag == 273:
            packed = b"\0\0\0\0"  # patched below, once the data offset is known
        if len(packed) <= 4:
            table += struct.pack("<HHI", tag, kind, len(values)) + packed.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", tag, kind, len(values), after_ifd + len(blobs))
            blobs += packed
    data_at = after_ifd + len(blobs)
    pos = table.index(struct.pack("<HHI", 273, 4, 1)) + 8
    table = table[:pos] + struct.pack("<I", data_at) + table[pos + 4:]
    body = b"II*\0" + struct.pack("<I", ifd_at) + struct.pack("<H", count) + table + b"\0\0\0\0" + blobs + data
    Path(path).write_bytes(body)
    return Path(path)


def pack12(values: np.ndarray) -> bytes:
    """Pack 12-bit samples two to three bytes, most significant bits first (TIFF's order)."""
    flat = values.astype(np.uint16).ravel()
    if flat.size % 2:
        flat = np.append(flat, 0)
    a, b = flat[0::2].astype(np.uint32), flat[1::2].astype(np.uint32)
    triple = np.stack([a >> 4, ((a & 0xF) << 4) | (b >> 8), b & 0xFF], axis=1).astype(np.uint8)
    return triple.tobytes()


def make_tiff12(path: Path, values: np.ndarray) -> Path:
    """A 12-bit gray TIFF (BitsPerSample 12, as film scanners write); ``values`` in 0..4095.
    Rows are padded to whole bytes as the TIFF spec asks, so use an even width."""
    height, width = values.shape
    assert width % 2 == 0
    return raw_tiff(path, pack12(values), width, height, 1, 12)


def make_tiff_u32(path: Path, values: np.ndarray) -> Path:
    """A 32-bit unsigned gray TIFF; ``values`` uint32."""
    height, width = values.shape
    return raw_tiff(path, values.astype("<u4").tobytes(), width, height, 1, 32, sample_format=1)


def make_tiff_float_rgb(path: Path, rgb: np.ndarray, orientation: Optional[int] = None) -> Path:
    """A 32-bit float RGB TIFF (values in 0..1, as HDR and scientific software write)."""
    height, width = rgb.shape[:2]
    extra = {274: orientation} if orientation else None
    return raw_tiff(path, rgb.astype("<f4").tobytes(), width, height, 3, 32, sample_format=3, extra=extra)


def make_oriented(path: Path, fmt: str, orientation: int, sixteen: bool = False,
                  upright: Optional[np.ndarray] = None) -> np.ndarray:
    """Write ``upright`` (default ``asymmetric_rgb()``) stored so that EXIF/TIFF
    ``orientation`` turns it upright, as JPEG, PNG, WEBP, HEIF or TIFF (8 or 16 bit
    for TIFF). Returns the upright pixels the loader must give back."""
    upright = asymmetric_rgb() if upright is None else upright
    stored = orientation_source(upright, orientation)
    if sixteen:
        assert fmt == "TIFF"
        data = (stored.astype(np.uint16) * 257).astype("<u2").tobytes()
        raw_tiff(path, data, stored.shape[1], stored.shape[0], 3, 16, extra={274: orientation})
        return upright.astype(np.uint16) * 257
    exif = Image.Exif()
    exif[274] = orientation
    exif[271] = "TestCam"
    params = {"quality": 90} if fmt in ("JPEG", "WEBP", "HEIF") else {}
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    _save_pil(path, Image.fromarray(stored), fmt, exif=exif.tobytes(), **params)
    return upright


def make_multipage_tiff(path: Path, pages: list[np.ndarray]) -> Path:
    """A multi-page 8-bit TIFF with the given pages in order (e.g. thumbnail first)."""
    images = [Image.fromarray(p) for p in pages]
    images[0].save(path, format="TIFF", save_all=True, append_images=images[1:], compression="tiff_lzw")
    return Path(path)


def corrupt_png_chunk_crc(png: bytes, kind: bytes) -> bytes:
    """``png`` with the CRC of its first ``kind`` chunk flipped (an old program's bug)."""
    pos = png.index(kind) - 4
    length = struct.unpack(">I", png[pos:pos + 4])[0]
    crc_at = pos + 8 + length
    return png[:crc_at] + bytes(b ^ 0xFF for b in png[crc_at:crc_at + 4]) + png[crc_at + 4:]
