"""Render the app's SVG icon into an executable icon at build time (build.spec calls this).

    python scripts/build_icons.py resources/icons/app.svg build/spec-assets/app.ico
    python scripts/build_icons.py resources/icons/app.svg build/spec-assets/app.icns
    python scripts/build_icons.py resources/icons/app.svg build/spec-assets/app.png

.ico and .icns both accept PNG images inside, so Qt's SVG renderer and a few struct calls
are all it takes: no Pillow, nothing downloaded.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# .icns element types holding PNG data, by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09",
              1024: b"ic10"}


def render_png(svg: Path, size: int) -> bytes:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"build_icons: cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, b"PNG")
    return bytes(data.data())


def ico(svg: Path) -> bytes:
    images = [render_png(svg, size) for size in ICO_SIZES]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, payload = b"", b""
    for size, png in zip(ICO_SIZES, images, strict=True):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
        payload += png
    return header + entries + payload


def icns(svg: Path) -> bytes:
    body = b""
    for size, kind in ICNS_TYPES.items():
        png = render_png(svg, size)
        body += kind + struct.pack(">I", 8 + len(png)) + png
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    svg, target = Path(argv[0]), Path(argv[1])
    _app = QGuiApplication([])  # QSvgRenderer needs one for text in SVGs
    writers = {".ico": ico, ".icns": icns, ".png": lambda s: render_png(s, 256)}
    if target.suffix not in writers:
        print(f"build_icons: unknown icon type {target.suffix}", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(writers[target.suffix](svg))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
