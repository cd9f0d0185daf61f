"""Draw the project's pictograms and write them as PNGs (default: instructions/media, 256×256).

python tools/make_pictograms.py [--out DIR] [--size PX] [--preview FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oss.render.pictograms import DRAWERS, MEDIA_NAMES, pictogram, write_pictograms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "instructions" / "media"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--preview", help="also write a contact sheet of every pictogram (on black) to this PNG")
    args = ap.parse_args(argv)
    for path in write_pictograms(args.out, args.size, MEDIA_NAMES):
        sys.stdout.write(f"{path}\n")
    if args.preview:
        tiles = []
        for name in DRAWERS:
            icon = pictogram(name, args.size).astype(np.float32)
            a = icon[..., 3:4] / 255.0
            tiles.append((icon[..., :3] * a).astype(np.uint8))
        cols = 8
        while len(tiles) % cols:
            tiles.append(np.zeros_like(tiles[0]))
        rows = [np.hstack(tiles[i : i + cols]) for i in range(0, len(tiles), cols)]
        cv2.imwrite(args.preview, np.vstack(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
