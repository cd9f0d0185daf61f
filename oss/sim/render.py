"""The camera's view: bench albedo × (ambient + projector light), bodies with shadows, blur and noise.

All per-frame work happens at camera resolution with maps precomputed per geometry:
camera px → bench mm (for the albedo, once per scene change) and camera px → projector px (for the
projector's light, every frame). Light model, per camera pixel and colour channel::

    value = 255 · exposure · albedo · (ambient · vignette · drift + lamp + brightness · (black + P / 255))

with P the projector pixel that lights this bench point, zero where a body casts its shadow.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from oss.sim.body import Blob
from oss.sim.geometry import Pinhole, apply_homography, bench_coordinates_of_pixels, onto_bench_from
from oss.sim.scenario import CameraSpec, LightingSpec, ProjectorSpec

NOISE_PAD = 48
NOISE_BANK = 4


class CameraRenderer:
    def __init__(
        self,
        cam: Pinhole,
        proj: Pinhole,
        cspec: CameraSpec,
        pspec: ProjectorSpec,
        light: LightingSpec,
        scene_origin: tuple[float, float],
        scene_mm_per_px: float,
        rng: np.random.Generator,
    ):
        self.cspec, self.pspec, self.light = cspec, pspec, light
        self.scene_origin, self.scene_mm_per_px = scene_origin, scene_mm_per_px
        w, h = cspec.size
        self.size = (w, h)
        self.lamps: list[tuple[float, float, float, float]] = []  # x, y, level, radius
        sig = max(cspec.noise_sigma, 1e-3)
        self._noise_unit = 16.0
        self._noise = [
            np.clip(rng.normal(0, self._noise_unit, (h + NOISE_PAD, w + NOISE_PAD, 3)), -127, 127).astype(
                np.int16
            )
            for _ in range(NOISE_BANK)
        ]
        lut = np.sqrt(sig * sig + cspec.shot_noise**2 * np.arange(256, dtype=np.float64))
        self._noise_lut = np.clip(lut * 8, 0, 255).astype(np.uint8)  # sigma in 1/8 grey levels
        self._albedo_cam: np.ndarray | None = None
        self._lit: np.ndarray | None = None
        self.set_geometry(cam, proj)

    # --- geometry and static layers -------------------------------------------------------------
    def set_geometry(self, cam: Pinhole, proj: Pinhole) -> None:
        self.cam, self.proj = cam, proj
        bx, by = bench_coordinates_of_pixels(cam)
        self.bench_x, self.bench_y = bx, by
        ox, oy = self.scene_origin
        r = self.scene_mm_per_px
        self._amap = cv2.convertMaps((bx - ox) / r - 0.5, (by - oy) / r - 0.5, cv2.CV_16SC2)
        pu, pv = apply_homography(proj.from_bench(), bx, by)
        self._pmap = cv2.convertMaps(pu, pv, cv2.CV_16SC2)
        self._last_proj: tuple[np.ndarray, np.ndarray] | None = None
        w, h = self.size
        u, v = np.meshgrid(np.linspace(-1, 1, w, dtype=np.float32), np.linspace(-1, 1, h, dtype=np.float32))
        self._vignette = 1.0 - self.light.vignette * (u * u + v * v) / 2.0
        self._albedo_src: np.ndarray | None = None
        self._ambient = self._ambient_map()

    def _ambient_map(self) -> np.ndarray:
        amb = self.light.ambient * self._vignette + self.pspec.brightness * self.pspec.black_level
        for x, y, level, radius in self.lamps:
            d2 = (self.bench_x - x) ** 2 + (self.bench_y - y) ** 2
            amb = amb + level / (1.0 + d2 / (radius * radius))
        return amb.astype(np.float32)

    def add_lamp(self, x: float, y: float, level: float, radius: float) -> None:
        self.lamps.append((x, y, level, radius))
        self._ambient = self._ambient_map()
        if self._albedo_cam is not None:
            self._relight()

    def set_albedo(self, albedo_bench: np.ndarray) -> None:
        self._albedo_src = albedo_bench
        a = cv2.remap(albedo_bench, self._amap[0], self._amap[1], cv2.INTER_LINEAR, borderValue=(40, 40, 40))
        if self.cspec.defocus_px > 0:
            a = cv2.GaussianBlur(a, (0, 0), self.cspec.defocus_px)
        self._albedo_cam = a
        self._relight()

    def _relight(self) -> None:
        assert self._albedo_cam is not None
        lit = self._albedo_cam.astype(np.float32) * (self._ambient * self.cspec.exposure)[..., None]
        self._lit = np.clip(lit, 0, 255).astype(np.uint8)

    def refresh_geometry(self, cam: Pinhole, proj: Pinhole) -> None:
        src = self._albedo_src
        self.set_geometry(cam, proj)
        if src is not None:
            self.set_albedo(src)

    # --- per frame ------------------------------------------------------------------------------
    def _projector_light(self, projector_image: np.ndarray | None) -> np.ndarray | None:
        if projector_image is None:
            return None
        img = projector_image
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        pw, ph = self.proj.size
        if img.shape[1] != pw or img.shape[0] != ph:
            img = cv2.resize(img, (pw, ph), interpolation=cv2.INTER_AREA)
        # stations mostly send the same image frame after frame: warp it only when it changed
        if (
            self._last_proj is not None
            and self._last_proj[0].shape == img.shape
            and np.array_equal(self._last_proj[0], img)
        ):
            return self._last_proj[1].copy()
        warped = cv2.remap(img, self._pmap[0], self._pmap[1], cv2.INTER_LINEAR, borderValue=(0, 0, 0))
        self._last_proj = (img.copy(), warped)
        return warped.copy()

    def render(
        self,
        projector_image: np.ndarray | None,
        blobs: list[Blob],
        drift: float,
        motion_px: tuple[float, float],
        rng: np.random.Generator | None,
    ) -> np.ndarray:
        """One camera image. ``motion_px`` is how far the moving bodies travel during the exposure;
        ``rng`` None renders without noise."""
        assert self._albedo_cam is not None and self._lit is not None
        plight = self._projector_light(projector_image)
        albedo, lit = self._albedo_cam, self._lit
        w, h = self.size
        roi = None
        if blobs:
            albedo, lit = albedo.copy(), lit.copy()
            roi = self._draw_bodies(blobs, albedo, lit, plight)
        if plight is not None:
            gain = self.cspec.exposure * self.pspec.brightness / 255.0
            term = cv2.multiply(albedo, plight, scale=gain)
            frame = cv2.addWeighted(lit, drift, term, 1.0, 0.0)
        else:
            frame = cv2.convertScaleAbs(lit, alpha=drift)
        if roi is not None:
            self._motion_blur(frame, roi, motion_px)
        if rng is not None and (self.cspec.noise_sigma > 0 or self.cspec.shot_noise > 0):
            k = int(rng.integers(NOISE_BANK))
            oy, ox = int(rng.integers(NOISE_PAD)), int(rng.integers(NOISE_PAD))
            noise = self._noise[k][oy : oy + h, ox : ox + w]
            sig = cv2.LUT(frame, self._noise_lut)
            scaled = cv2.multiply(noise, sig, scale=1.0 / (8.0 * self._noise_unit), dtype=cv2.CV_16S)
            frame = cv2.add(frame, scaled, dtype=cv2.CV_8U)
        return frame

    def _project_polys(self, pts3: list[np.ndarray]) -> list[np.ndarray]:
        lens = [len(p) for p in pts3]
        uv = self.cam.project(np.concatenate(pts3))
        out, i = [], 0
        for n in lens:
            out.append(np.round(uv[i : i + n] * 8).astype(np.int32))
            i += n
        return out

    def _draw_bodies(
        self, blobs: list[Blob], albedo: np.ndarray, lit: np.ndarray, plight: np.ndarray | None
    ) -> tuple[int, int, int, int]:
        w, h = self.size
        body_px = self._project_polys([b.pts for b in blobs])
        # where each body point lies on the bench below it, and where its projector shadow falls
        flat = [np.column_stack([b.pts[:, :2], np.zeros(len(b.pts))]) for b in blobs]
        below_px = self._project_polys(flat)
        allpx = np.concatenate(body_px + below_px) / 8.0
        x0, y0 = np.floor(allpx.min(axis=0)).astype(int) - 24
        x1, y1 = np.ceil(allpx.max(axis=0)).astype(int) + 24
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            return (0, 0, 0, 0)
        # soft contact shadow of ambient light: darker the closer a body is to the bench
        rw, rh = x1 - x0, y1 - y0
        q = 4
        small = np.zeros((max(rh // q, 1), max(rw // q, 1)), np.float32)
        off = np.array([x0, y0]) * 8
        for b, px in zip(blobs, below_px, strict=True):
            z = float(b.pts[:, 2].mean())
            k = b.shadow * 0.55 * math.exp(-z / 260.0)
            cv2.fillPoly(small, [((px - off) // q).astype(np.int32)], (k,), cv2.LINE_8, shift=3)
        soft = cv2.GaussianBlur(small, (0, 0), 22.0 / q)
        shade = cv2.resize(soft, (rw, rh), interpolation=cv2.INTER_LINEAR)
        fac = cv2.cvtColor(np.clip(255.0 * (1.0 - shade), 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
        cv2.multiply(lit[y0:y1, x0:x1], fac, lit[y0:y1, x0:x1], scale=1.0 / 255.0)
        mask = np.zeros((rh, rw), np.uint8)
        for px in body_px:
            cv2.fillPoly(mask, [px - off], (255,), cv2.LINE_AA, shift=3)
        if plight is not None:
            keep = plight[y0:y1, x0:x1].copy()
            c = np.asarray(self.proj.position, np.float64)
            shadows = [onto_bench_from(c, b.pts) for b in blobs if b.shadow > 0]
            if shadows:
                sh3 = [np.column_stack([s, np.zeros(len(s))]) for s in shadows]
                for px in self._project_polys(sh3):
                    cv2.fillPoly(plight, [px], (0, 0, 0), cv2.LINE_AA, shift=3)
            cv2.copyTo(keep, mask, plight[y0:y1, x0:x1])
        amb_here = float(self._ambient[(y0 + y1) // 2, (x0 + x1) // 2]) * self.cspec.exposure * 1.08
        for b, px in zip(blobs, body_px, strict=True):
            col = b.color
            dark = tuple(int(c * 0.72) for c in col)
            cv2.fillPoly(albedo, [px], col, cv2.LINE_AA, shift=3)
            cv2.polylines(albedo, [px], True, dark, 2, cv2.LINE_AA, shift=3)
            lcol = tuple(min(255, int(c * amb_here)) for c in col)
            ldark = tuple(min(255, int(c * amb_here)) for c in dark)
            cv2.fillPoly(lit, [px], lcol, cv2.LINE_AA, shift=3)
            cv2.polylines(lit, [px], True, ldark, 2, cv2.LINE_AA, shift=3)
        self._mask, self._mask_roi = mask, (x0, y0, x1, y1)
        return (x0, y0, x1, y1)

    def _motion_blur(
        self, frame: np.ndarray, roi: tuple[int, int, int, int], motion_px: tuple[float, float]
    ) -> None:
        dx, dy = motion_px
        length = math.hypot(dx, dy)
        x0, y0, x1, y1 = roi
        if length < 1.5 or x1 <= x0 or y1 <= y0:
            return
        n = int(min(round(length), 31)) | 1
        kern = np.zeros((n, n), np.float32)
        c = n // 2
        ux, uy = dx / length, dy / length
        for i in range(n):
            t = i - c
            kern[round(c + uy * t), round(c + ux * t)] = 1.0
        kern /= kern.sum()
        pad = c + 1
        ax0, ay0 = max(x0 - pad, 0), max(y0 - pad, 0)
        ax1, ay1 = min(x1 + pad, self.size[0]), min(y1 + pad, self.size[1])
        region = frame[ay0:ay1, ax0:ax1]
        blurred = cv2.filter2D(region, -1, kern, borderType=cv2.BORDER_REPLICATE)
        mask = np.zeros(region.shape[:2], np.uint8)
        mask[y0 - ay0 : y1 - ay0, x0 - ax0 : x1 - ax0] = self._mask
        grown = cv2.dilate(mask, np.ones((n, n), np.uint8))
        cv2.copyTo(blurred, grown, region)
