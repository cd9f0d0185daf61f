"""Gray-code structured light: the patterns a projector shows and how a camera view decodes to projector px.

OpenCV's ``cv2.structured_light.GrayCodePattern`` generates the patterns (each bit plane followed by its
inverse, columns first, then rows); we append a full white and a full black image. ``getProjPixel`` is
its per-pixel decoder (its ``decode()`` crashes with one camera, so it is not used). For whole images,
``decode_dense`` does the same arithmetic vectorised; a test checks both agree on real captures.

With ``step`` > 1 the code addresses blocks of step×step projector px; a decoded block maps to its centre.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from oss.records import OssError


@dataclass(frozen=True)
class GrayCode:
    projector_size: tuple[int, int]  # (width, height) px
    step: int = 1
    black_threshold: int = 40  # white - black must exceed this for a pixel to count as lit
    white_threshold: int = 5  # |pattern - inverse| must reach this for each bit

    @property
    def code_size(self) -> tuple[int, int]:
        w, h = self.projector_size
        return ((w - 1) // self.step + 1, (h - 1) // self.step + 1)

    def _pattern(self) -> cv2.structured_light.GrayCodePattern:
        if self.step < 1:
            raise OssError(f"--graycode-step must be 1 or more, not {self.step}")
        g = cv2.structured_light.GrayCodePattern.create(*self.code_size)
        g.setBlackThreshold(int(self.black_threshold))
        g.setWhiteThreshold(int(self.white_threshold))
        return g

    @property
    def bit_images(self) -> int:
        """Number of bit-plane images (patterns and inverses), without white and black."""
        return int(self._pattern().getNumberOfPatternImages())

    @property
    def image_count(self) -> int:
        return self.bit_images + 2

    @property
    def col_bits(self) -> int:
        return int(np.ceil(np.log2(self.code_size[0])))

    def images(self) -> list[np.ndarray]:
        """All images to project (grey uint8 at projector size): bit planes, then white, then black."""
        ok, pats = self._pattern().generate()
        if not ok:
            raise OssError(f"cannot generate Gray-code patterns for {self.projector_size}")
        w, h = self.projector_size
        out = []
        for p in pats:
            big = np.repeat(np.repeat(p, self.step, axis=0), self.step, axis=1)[:h, :w]
            out.append(np.ascontiguousarray(big))
        out.append(np.full((h, w), 255, np.uint8))
        out.append(np.zeros((h, w), np.uint8))
        return out

    def _check(self, captures: Sequence[np.ndarray]) -> list[np.ndarray]:
        if len(captures) != self.image_count:
            raise OssError(
                f"{len(captures)} camera views given, but a {self.projector_size[0]}x"
                f"{self.projector_size[1]} projector with Gray-code step {self.step} needs "
                f"{self.image_count} (bit planes, white, black)"
            )
        return [cv2.cvtColor(c, cv2.COLOR_BGR2GRAY) if c.ndim == 3 else c for c in captures]

    def lit_mask(self, captures: Sequence[np.ndarray]) -> np.ndarray:
        """Camera pixels the projector lights enough to decode (white - black > black_threshold)."""
        grey = self._check(captures)
        white, black = grey[-2].astype(np.int16), grey[-1].astype(np.int16)
        return (white - black) > self.black_threshold

    def decode_pixels(self, captures: Sequence[np.ndarray], px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode integer camera pixels ``px`` (N×2, x y) with OpenCV's ``getProjPixel``.

        Returns (projector px N×2 float, valid N bool); pixels not lit enough are invalid.
        """
        grey = self._check(captures)
        pattern = self._pattern()
        bits = grey[:-2]
        lit = self.lit_mask(captures)
        out = np.zeros((len(px), 2), np.float64)
        ok = np.zeros(len(px), bool)
        for i, (x, y) in enumerate(np.asarray(px, int)):
            if not lit[y, x]:
                continue
            err, pp = pattern.getProjPixel(bits, int(x), int(y))
            if not err:
                out[i] = pp
                ok[i] = True
        return self._to_projector(out), ok

    def decode_dense(self, captures: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Decode every camera pixel: (projector px H×W×2 float32, valid H×W bool)."""
        grey = self._check(captures)
        lit = self.lit_mask(captures)
        nc = self.col_bits
        nb = self.bit_images // 2
        ok = lit.copy()
        codes = []
        for start, n in ((0, nc), (nc, nb - nc)):
            gray_bit = None
            value = np.zeros(lit.shape, np.int32)
            for b in range(start, start + n):
                a, inv = grey[2 * b].astype(np.int16), grey[2 * b + 1].astype(np.int16)
                ok &= np.abs(a - inv) >= self.white_threshold
                g = a > inv
                gray_bit = g if gray_bit is None else (gray_bit ^ g)
                value = (value << 1) | gray_bit
            codes.append(value)
        cw, ch = self.code_size
        ok &= (codes[0] < cw) & (codes[1] < ch)
        pp = np.stack(codes, axis=-1).astype(np.float64)
        return self._to_projector(pp).astype(np.float32), ok

    def _to_projector(self, code: np.ndarray) -> np.ndarray:
        return code * self.step + (self.step - 1) / 2.0
