"""Small test clips made with PyAV: a textured scene panning slowly, gray or in
colour, with a sine-tone audio track, in the containers and codecs families have."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Optional

import av
import cv2
import numpy as np


def scene(width: int, height: int, index: int, color: bool = False, seed: int = 0,
          speed: float = 1.0) -> np.ndarray:
    """Frame ``index`` of a slow pan over a smooth textured picture (RGB uint8).

    Coloured: a warm left half, a cool right half and a green disc, so a
    colorization or a reference has something to keep steady."""
    rng = np.random.default_rng(seed)
    pad = int(speed * 200) + 8
    noise = rng.random((height, width + pad)).astype(np.float32)
    tex = cv2.GaussianBlur(noise, (0, 0), 4)
    tex = (tex - tex.min()) / max(1e-6, float(tex.max() - tex.min()))
    x0 = int(round(speed * index)) % pad
    light = 40 + 150 * tex[:, x0:x0 + width]
    rgb = np.repeat(light[:, :, None], 3, axis=2)
    if color:
        tint = np.zeros((height, width + pad, 3), np.float32)
        tint[:, : (width + pad) // 2] = (40, 10, -30)
        tint[:, (width + pad) // 2:] = (-30, 0, 40)
        cv2.circle(tint, ((width + pad) // 3, height // 2), height // 4, (-40, 50, -40), -1)
        rgb = rgb + tint[:, x0:x0 + width]
    return np.clip(rgb, 0, 255).astype(np.uint8)


def make_clip(path: Path, frames: int = 12, width: int = 96, height: int = 64, fps: Fraction | int = 24,
              codec: str = "libx264", audio: Optional[str] = "aac", rotation: int = 0,
              interlaced: bool = False, color: bool = False, pix_fmt: Optional[str] = None,
              seed: int = 0) -> Path:
    """Write a clip; the container comes from the extension. Returns ``path``."""
    path = Path(path)
    fps = Fraction(fps)
    fmt = {".dv": "dv", ".m4v": "mp4"}.get(path.suffix.lower())
    with av.open(str(path), "w", format=fmt) as out:
        options = {"x264-params": "interlaced=1:tff=1"} if interlaced and codec == "libx264" else {}
        video = out.add_stream(codec, rate=fps, options=options)
        video.width, video.height = width, height
        video.pix_fmt = pix_fmt or {"mjpeg": "yuvj420p", "dvvideo": "yuv411p"}.get(codec, "yuv420p")
        if codec == "dvvideo":
            video.pix_fmt = "yuv411p" if height == 480 else "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            rate = 48000
            sound = out.add_stream(audio, rate=rate, layout="stereo")
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(scene(width, height, i, color, seed), format="rgb24")
            frame.pts = i
            frame.time_base = 1 / fps
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if sound is not None:
            samples = int(round(48000 * frames / fps))
            t = np.arange(samples) / 48000.0
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            chunk = 1024
            layout = sound.codec_context.format
            dtype = {"s16": np.int16, "s32": np.int32, "flt": np.float32, "dbl": np.float64}[layout.name.rstrip("p")]
            scale = 1.0 if np.issubdtype(dtype, np.floating) else float(np.iinfo(dtype).max)
            for start in range(0, samples, chunk):
                part = tone[start:start + chunk]
                data = (np.stack([part, part]) * scale).astype(dtype)
                if not layout.is_planar:
                    data = data.T.reshape(1, -1)
                af = av.AudioFrame.from_ndarray(data, format=layout.name, layout="stereo")
                af.sample_rate = 48000
                af.pts = start
                out.mux(sound.encode(af))
            out.mux(sound.encode())
    return path


def video_frames(path: Path, fmt: str = "rgb24") -> list[np.ndarray]:
    """Every frame of a (small) clip, as stored."""
    with av.open(str(path)) as c:
        return [f.to_ndarray(format=fmt) for f in c.decode(c.streams.video[0])]


def audio_packets(path: Path) -> list[bytes]:
    """The bytes of every audio packet, in order."""
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return []
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


def clip_facts(path: Path) -> dict:
    """Frame count, size, frame rate, duration (s) and rotation of a clip's video."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = list(c.decode(s))
        last = frames[-1]
        step = 1 / s.average_rate
        return {"frames": len(frames), "size": (last.width, last.height), "fps": s.average_rate,
                "duration": float(last.time - frames[0].time + step),
                "rotation": int(frames[0].rotation), "interlaced": frames[0].interlaced_frame}
