"""Draw KAP Journey's icons: a white sunrise over a winding path on calm teal. No text, no
medical symbols. A developer tool (Pillow is not a runtime dependency); run it after changing the
design and commit the PNGs it writes to assets/icons/:

    .venv/bin/python tools/make_icons.py

Shapes are drawn at four times the target size and scaled down, which smooths their edges.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from PIL import Image, ImageDraw

TEAL = (15, 118, 110, 255)  # #0f766e
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
SUPERSAMPLE = 4
log = logging.getLogger("make_icons")
OUT = Path(__file__).resolve().parents[1] / "assets" / "icons"


def _motif(draw: ImageDraw.ImageDraw, box: tuple[float, float, float], *, rays: bool) -> None:
    """The sunrise and the path, in white, inside the square at (left, top) of side ``size``."""
    left, top, size = box

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * size, top + y * size

    horizon = 0.56
    # The sun, half risen above the horizon.
    r = 0.2
    cx, cy = at(0.5, horizon)
    draw.pieslice((cx - r * size, cy - r * size, cx + r * size, cy + r * size), 180, 360, WHITE)
    if rays:
        for angle in (200, 235, 270, 305, 340):
            a = math.radians(angle)
            inner, outer = r + 0.07, r + 0.17
            draw.line(
                (
                    at(0.5 + inner * math.cos(a), horizon + inner * math.sin(a)),
                    at(0.5 + outer * math.cos(a), horizon + outer * math.sin(a)),
                ),
                WHITE,
                width=max(1, round(0.055 * size)),
            )
    # The horizon: a band with a small gap under the sun, so the path reads as leaving it.
    band = 0.045
    draw.rectangle((*at(0.0, horizon + 0.03), *at(1.0, horizon + 0.03 + band)), WHITE)
    # The path: from wide at the bottom to a point at the horizon, swinging left then right.
    steps = 48
    left_edge, right_edge = [], []
    for i in range(steps + 1):
        t = i / steps  # 0 at the horizon, 1 at the bottom
        y = horizon + 0.03 + band + t * (1.0 - horizon - 0.03 - band)
        centre = 0.5 + 0.13 * math.sin(t * math.pi * 1.15) * (1 - 0.35 * t)
        half = 0.012 + 0.2 * t**1.3
        left_edge.append(at(centre - half, y))
        right_edge.append(at(centre + half, y))
    draw.polygon(left_edge + right_edge[::-1], WHITE)


def _icon(size: int, *, safe: float, rounded: bool, background: bool = True) -> Image.Image:
    """A square icon: teal (rounded or full-bleed) with the motif inside ``safe`` of its side."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), CLEAR)
    draw = ImageDraw.Draw(image)
    if background:
        if rounded:
            draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=round(big * 0.22), fill=TEAL)
        else:
            draw.rectangle((0, 0, big, big), TEAL)
    side = big * safe
    offset = (big - side) / 2
    _motif(draw, (offset, offset, side), rays=size >= 64)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _badge(size: int) -> Image.Image:
    """Monochrome: white on transparent. Android draws notification badges from the alpha only."""
    return _icon(size, safe=0.86, rounded=False, background=False)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    OUT.mkdir(parents=True, exist_ok=True)
    icons = {
        # "any" icons: a rounded tile; the motif may use most of it.
        "icon-192.png": _icon(192, safe=0.7, rounded=True),
        "icon-512.png": _icon(512, safe=0.7, rounded=True),
        # Maskable: full bleed, and all of the motif inside the central circle of 80 % diameter
        # (the safe zone): a centred square of side 0.56 has its corners at 0.56 / sqrt(2) =
        # 0.396 of the side from the centre, inside the circle's radius of 0.4.
        "icon-maskable-512.png": _icon(512, safe=0.56, rounded=False),
        # iOS rounds the corners itself and shows transparency as black: full bleed.
        "apple-touch-icon.png": _icon(180, safe=0.66, rounded=False),
        "badge-72.png": _badge(72),
        "favicon.png": _icon(32, safe=0.78, rounded=True),
    }
    for name, image in icons.items():
        image.save(OUT / name, optimize=True)
        log.info("wrote %s (%dx%d)", OUT / name, image.width, image.height)


if __name__ == "__main__":
    main()
