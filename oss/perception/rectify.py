"""Camera frame → top-down bench image, and projector image → what it puts on each bench pixel.

Bench image convention (the one of ``Calibration.rectify_maps``): pixel (u, v) shows bench point
((u + 0.5)·s, (v + 0.5)·s) mm, so row 0 is the operator's edge (y = 0).
"""

from __future__ import annotations

import cv2
import numpy as np

from oss.calibration.model import Calibration, Radiometry
from oss.records import OssError


def bench_px_size(calibration: Calibration, mm_per_px: float) -> tuple[int, int]:
    """(width, height) of the bench image at ``mm_per_px``."""
    return (
        round(calibration.bench_size_mm[0] / mm_per_px),
        round(calibration.bench_size_mm[1] / mm_per_px),
    )


def bench_grid_mm(size: tuple[int, int], mm_per_px: float) -> np.ndarray:
    """H×W×2 bench mm of every bench pixel centre."""
    w, h = size
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    return np.stack([(u + 0.5) * mm_per_px, (v + 0.5) * mm_per_px], axis=-1)


def projector_maps(
    calibration: Calibration, mm_per_px: float, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps from the bench image to a projector image resized by ``scale``."""
    w, h = bench_px_size(calibration, mm_per_px)
    pts = bench_grid_mm((w, h), mm_per_px).reshape(-1, 1, 2)
    ppx = cv2.perspectiveTransform(pts, calibration.proj_from_bench).reshape(h, w, 2)
    # projector pixel centres sit at integer coordinates; a resize by `scale` maps p → (p + .5)·scale − .5
    ppx = ((ppx + 0.5) * scale - 0.5).astype(np.float32)
    return cv2.convertMaps(ppx[..., 0], ppx[..., 1], cv2.CV_16SC2)


def resample_radiometry(calibration: Calibration, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The radiometric black view and the white − black contrast, float32 H×W×3 at the bench image size."""
    rad = calibration.radiometry
    if rad is None:
        raise OssError(
            f"calibration {calibration.source or '(in memory)'}: no radiometric model, so perception "
            "cannot tell the projection from hands and parts. Run the radiometric step of 'oss calibrate' "
            "(the camera views the bench under a black and a white projection) and save the calibration."
        )
    black = np.asarray(rad.black, dtype=np.float32)
    white = np.asarray(rad.white, dtype=np.float32)
    if black.ndim == 2:
        black = np.repeat(black[..., None], 3, axis=2)
        white = np.repeat(white[..., None], 3, axis=2)
    interp = cv2.INTER_AREA if black.shape[1] > size[0] else cv2.INTER_LINEAR
    b = cv2.resize(black, size, interpolation=interp)
    wt = cv2.resize(white, size, interpolation=interp)
    return b, np.maximum(wt - b, 0.0).astype(np.float32)


class BenchRectifier:
    """Precomputed warps: camera → bench image, projector → bench image, radiometry at bench size.

    ``plain=True`` recomputes every map on every call (the reference figure of a plain approach).
    """

    def __init__(self, calibration: Calibration, mm_per_px: float = 2.0, *, plain: bool = False) -> None:
        self.calibration = calibration
        self.mm_per_px = float(mm_per_px)
        self.size = bench_px_size(calibration, mm_per_px)
        self.plain = plain
        self._cam_maps = calibration.rectify_maps(mm_per_px)
        self.black, self.contrast = resample_radiometry(calibration, self.size)
        # anti-aliasing: shrink the projector image towards bench resolution before sampling it
        pw, ph = calibration.projector_size
        corners = np.array([[0, 0], [calibration.bench_size_mm[0], calibration.bench_size_mm[1]]], np.float64)
        ppx = calibration.bench_to_projector(corners)
        ppx_per_bpx = float(np.linalg.norm(ppx[1] - ppx[0]) / np.hypot(*self.size))
        # several projector px fall on one bench px: sample, then average over about that many
        k = int(min(5, max(1, round(ppx_per_bpx)))) if ppx_per_bpx > 0 else 1
        self._proj_blur = k | 1 if k > 1 else 1
        self._proj_maps = projector_maps(calibration, mm_per_px)
        self._last_proj: np.ndarray | None = None
        self._last_warp: np.ndarray | None = None
        self._last_u8: np.ndarray | None = None
        self._last_image: np.ndarray | None = None  # a copy of the last projector image (BGR uint8)
        self._proj_h = np.asarray(calibration.proj_from_bench, np.float64)
        self.changed_box: tuple[int, int, int, int] | None = None  # (x, y, w, h) changed by the last call

    def follow_camera(self, calibration: Calibration) -> None:
        """The camera's view moved (``oss.perception.alignment``): new camera maps; the projector's and
        the radiometric model (bench coordinates) stay as they are."""
        self.calibration = calibration
        self._cam_maps = calibration.rectify_maps(self.mm_per_px)

    def follow_projector(self, calibration: Calibration) -> None:
        """The projection moved over the bench (``oss.perception.alignment``): new projector maps."""
        self.calibration = calibration
        self._proj_maps = projector_maps(calibration, self.mm_per_px)
        self._proj_h = np.asarray(calibration.proj_from_bench, np.float64)
        self._last_proj = self._last_warp = self._last_u8 = self._last_image = None

    def projection_under(self, calibration: Calibration, projector_image: np.ndarray) -> np.ndarray:
        """What ``projection`` would give with ``calibration``'s projector mapping (nothing kept)."""
        return _as_level(self._warp(projector_image, projector_maps(calibration, self.mm_per_px)))

    def _warp(self, projector_image: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        u8 = cv2.remap(
            projector_image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)
        )
        if self._proj_blur > 1:
            u8 = cv2.blur(u8, (self._proj_blur, self._proj_blur))
        if u8.ndim == 2:
            u8 = cv2.cvtColor(u8, cv2.COLOR_GRAY2BGR)
        return np.asarray(u8)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the bench image."""
        return (self.size[1], self.size[0])

    def rectify(self, image: np.ndarray) -> np.ndarray:
        """Raw camera frame (BGR uint8) → bench image (BGR uint8)."""
        m1, m2 = self.calibration.rectify_maps(self.mm_per_px) if self.plain else self._cam_maps
        return cv2.remap(image, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def projection(self, projector_image: np.ndarray | None) -> np.ndarray:
        """The projected level P (0..1, float32 H×W×3) on every bench pixel; ``None`` = all black.

        The last result is kept and reused while the caller passes the very same image object;
        ``changed_box`` says which bench px (x, y, w, h) changed since the previous call (None: unknown).
        """
        self.changed_box = None
        if projector_image is None:
            return np.zeros((*self.shape, 3), np.float32)
        if self.plain:
            h = self.calibration.proj_from_bench
            s = self.mm_per_px
            to_bench_px = np.array([[s, 0, s / 2], [0, s, s / 2], [0, 0, 1]], np.float64)
            warped = cv2.warpPerspective(
                projector_image, h @ to_bench_px, self.size, flags=cv2.WARP_INVERSE_MAP
            )
            return _as_level(warped)
        if projector_image is self._last_proj and self._last_warp is not None:
            self.changed_box = (0, 0, 0, 0)
            return self._last_warp
        if self._update_warp(projector_image) and self._last_warp is not None:
            return self._last_warp
        u8 = self._warp(projector_image, self._proj_maps)
        if self._last_u8 is not None and u8.dtype == np.uint8:
            self.changed_box = _changed_box(u8, self._last_u8)
        warped = _as_level(u8)
        self._last_proj, self._last_warp, self._last_u8 = projector_image, warped, u8
        keep = projector_image.dtype == np.uint8 and projector_image.ndim == 3
        self._last_image = projector_image.copy() if keep else None
        return warped

    def _update_warp(self, image: np.ndarray) -> bool:
        """Warp again only the bench px that the projector image's change since the last call reaches
        (usually a small part: the hands' dark area, a progress bar); False when the whole must be warped.
        The result is the same as warping it all: every px redone gets the same remap and blur input."""
        old, warp, u8 = self._last_image, self._last_warp, self._last_u8
        if old is None or warp is None or u8 is None or image.shape != old.shape or image.dtype != old.dtype:
            return False
        ph, pw = image.shape[:2]
        px, py, pbw, pbh = cv2.boundingRect(cv2.absdiff(image, old).reshape(ph, pw * 3))
        if pbw == 0 or pbh == 0:
            self.changed_box = (0, 0, 0, 0)
            self._last_proj = image
            return True
        x0, x1 = px // 3, (px + pbw + 2) // 3  # columns of the W·3 row back to pixels
        if (x1 - x0) * pbh > 0.5 * pw * ph:
            return False  # most of it changed: the whole at once is quicker
        # the bench px whose sample falls among those projector px (bilinear: one px further out)
        corners = np.array([[x0 - 1, py - 1], [x1, py - 1], [x1, py + pbh], [x0 - 1, py + pbh]], np.float64)
        mm = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), np.linalg.inv(self._proj_h)).reshape(-1, 2)
        bx = mm / self.mm_per_px - 0.5
        w, h = self.size
        r = self._proj_blur // 2
        grow = 1 + r  # rounding, and the blur spreads each change r px
        ox0, oy0 = max(0, int(np.floor(bx[:, 0].min())) - grow), max(0, int(np.floor(bx[:, 1].min())) - grow)
        ox1, oy1 = min(w, int(np.ceil(bx[:, 0].max())) + 1 + grow), min(h, int(np.ceil(bx[:, 1].max())) + 1 + grow)
        self._last_proj = image
        np.copyto(old, image)
        if ox1 <= ox0 or oy1 <= oy0:  # lands off the bench
            self.changed_box = (0, 0, 0, 0)
            return True
        ix0, iy0, ix1, iy1 = max(0, ox0 - r), max(0, oy0 - r), min(w, ox1 + r), min(h, oy1 + r)
        m1, m2 = self._proj_maps
        part = self._warp(image, (m1[iy0:iy1, ix0:ix1], m2[iy0:iy1, ix0:ix1]))
        new = part[oy0 - iy0 : oy1 - iy0, ox0 - ix0 : ox1 - ix0]
        bx0, by0, bbw, bbh = _changed_box(new, u8[oy0:oy1, ox0:ox1])
        self.changed_box = (ox0 + bx0, oy0 + by0, bbw, bbh) if bbw and bbh else (0, 0, 0, 0)
        u8[oy0:oy1, ox0:ox1] = new
        warp = warp.copy()  # a new result: callers keep the last one to compare with
        warp[oy0:oy1, ox0:ox1] = _as_level(new)
        self._last_warp = warp
        return True


def _changed_box(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) around the px where two BGR images differ ((0, 0, 0, 0): nowhere)."""
    h, w = a.shape[:2]
    x, y, bw, bh = cv2.boundingRect(cv2.absdiff(a, b).reshape(h, w * 3))
    if bw == 0 or bh == 0:
        return (0, 0, 0, 0)
    return (x // 3, y, (x + bw + 2) // 3 - x // 3, bh)


def _as_level(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    scale = 1.0 / 255.0 if img.dtype == np.uint8 else 1.0
    return img.astype(np.float32) * np.float32(scale)


def measure_radiometry(
    calibration: Calibration, capture_black: np.ndarray, capture_white: np.ndarray, mm_per_px: float = 4.0
) -> Radiometry:
    """The radiometric model from two camera frames of the empty bench, under an all-black and an
    all-white projection: both rectified to bench coordinates at ``mm_per_px`` (float32 H×W×3)."""
    m1, m2 = calibration.rectify_maps(mm_per_px)
    out = []
    for img in (capture_black, capture_white):
        size = (img.shape[1], img.shape[0])
        if size != tuple(calibration.camera_size):
            raise OssError(
                f"radiometric capture is {size[0]}x{size[1]} but the calibration is for "
                f"{calibration.camera_size[0]}x{calibration.camera_size[1]}; "
                "capture at the calibrated resolution."
            )
        img = cv2.GaussianBlur(img, (0, 0), 1.0)  # take the sensor noise out of the reference
        out.append(cv2.remap(img, m1, m2, cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE).astype(np.float32))
    return Radiometry(float(mm_per_px), out[0], out[1])
