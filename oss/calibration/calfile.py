"""Reading a calibration file: every value checked before use, every problem with FILE:LINE:COL.

Calibration files are written by ``oss calibrate``, but they are copied, edited and damaged like any
file (issue 21): the YAML goes through the same guarded composer as the instruction files (size, depth,
value count, no tags), numbers must be finite and in range, matrices have their shapes, and the
radiometry arrays are checked from their headers before a byte of them is read.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from yaml.constructor import SafeConstructor

from oss.instructions.limits import MAX_BENCH_MM
from oss.instructions.reader import Reader
from oss.instructions.yamlnodes import (
    FileProblems,
    Problems,
    compose_file,
    mapping_items,
    path_state,
    scalar_value,
    shorten,
)

CALIBRATION_FORMAT = 1
MAX_IMAGE_SIDE = 8192  # camera and projector width and height, px
MAX_ENTRY = 1e9  # a matrix entry (px, mm): far beyond any real one
MM_PER_PX = (0.25, 50.0)  # the radiometric model's resolution
MAX_RADIOMETRY_PX = 4_000_000  # pixels of each radiometric image (2000 x 2000)
MAX_NPZ_BYTES = 200_000_000
DIST_LENGTHS = (4, 5, 8, 12, 14)  # OpenCV's distortion models
RECALIBRATE = "recalibrate with 'oss calibrate station'"
REQUIRED = ("format", "camera_size", "projector_size", "bench_size_mm", "cam_from_bench", "proj_from_bench")
MODEL_KEYS = ("projector_matrix", "projector_dist", "proj_rvec", "proj_tvec_mm", "cam_rvec", "cam_tvec_mm")


@dataclass
class CalibrationDoc:
    """The checked contents of a calibration file, as numbers and arrays."""

    camera_size: tuple[int, int]
    projector_size: tuple[int, int]
    bench_size_mm: tuple[float, float]
    cam_from_bench: np.ndarray
    proj_from_bench: np.ndarray
    camera_matrix: np.ndarray
    dist_coeffs: np.ndarray
    projector_model: dict[str, np.ndarray] | None = None
    report: dict[str, object] = field(default_factory=dict)
    radiometry: tuple[float, np.ndarray, np.ndarray] | None = None  # mm_per_px, black, white


class _Read:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.p = Problems(str(path))
        self.r = Reader(self.p)

    def size(self, node: yaml.Node, where: str) -> tuple[int, int] | None:
        items = self.r.sequence(node, where)
        if isinstance(node, yaml.SequenceNode) and len(items) != 2:
            self.p.error(node, f"{where} must be [width, height] in px, not {len(items)} values")
            return None
        vals = [self.r.integer(n, where, 16, MAX_IMAGE_SIDE) for n in items]
        return (vals[0], vals[1]) if len(vals) == 2 and None not in vals else None  # type: ignore[return-value]

    def numbers(self, node: yaml.Node, where: str, lengths: tuple[int, ...]) -> np.ndarray | None:
        items = self.r.sequence(node, where)
        if not isinstance(node, yaml.SequenceNode):
            return None
        if len(items) not in lengths:
            want = " or ".join(str(n) for n in lengths)
            self.p.error(node, f"{where} must be {want} numbers, not {len(items)} values")
            return None
        vals = [self.r.number(n, where, minimum=-MAX_ENTRY, maximum=MAX_ENTRY) for n in items]
        return None if any(v is None for v in vals) else np.array(vals, np.float64)

    def matrix(self, node: yaml.Node, where: str) -> np.ndarray | None:
        rows = self.r.sequence(node, where)
        if not isinstance(node, yaml.SequenceNode):
            return None
        if len(rows) != 3 or any(not isinstance(n, yaml.SequenceNode) or len(n.value) != 3 for n in rows):
            self.p.error(node, f"{where} must be 3 rows of 3 numbers; the file is damaged: {RECALIBRATE}")
            return None
        vals = [self.numbers(n, where, (3,)) for n in rows]
        return None if any(v is None for v in vals) else np.vstack(vals)  # type: ignore[arg-type]

    def entries(self, node: yaml.Node, where: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.p.error(
                node, f"{where} must be a mapping of keys to values; the file is damaged: {RECALIBRATE}"
            )
            return {}
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, k, v in mapping_items(node):
            if key in out:
                self.p.error(k, f"'{shorten(key)}' is given twice in {where}")
            out[key] = (k, v)
        return out


def read_calibration(path: Path) -> CalibrationDoc:
    """The checked contents of the calibration file ``path``; raises FileProblems listing every problem."""
    rd = _Read(path)
    p = rd.p
    root = compose_file(path, "calibration file")
    top = rd.entries(root, "the calibration file")
    fmt = top.get("format")
    if fmt is None or scalar_value(fmt[1]) != CALIBRATION_FORMAT or isinstance(fmt[1], yaml.CollectionNode):  # type: ignore[arg-type]
        p.error(
            fmt[1] if fmt else root,
            f"not an OSS calibration file of format {CALIBRATION_FORMAT}; {RECALIBRATE}",
        )
        raise FileProblems(p.items)
    for key in REQUIRED:
        if key not in top:
            p.error(root, f"the calibration file needs '{key}'; it is incomplete: {RECALIBRATE}")
    cam = rd.size(top["camera_size"][1], "camera_size") if "camera_size" in top else None
    proj = rd.size(top["projector_size"][1], "projector_size") if "projector_size" in top else None
    bench: tuple[float, float] | None = None
    if "bench_size_mm" in top:
        node = top["bench_size_mm"][1]
        items = rd.r.sequence(node, "bench_size_mm")
        if isinstance(node, yaml.SequenceNode) and len(items) != 2:
            p.error(node, f"bench_size_mm must be [width, depth] in mm, not {len(items)} values")
        elif len(items) == 2:
            w, d = (rd.r.number(n, "bench_size_mm", positive=True, maximum=MAX_BENCH_MM) for n in items)
            bench = (w, d) if w is not None and d is not None else None
    mats = {k: rd.matrix(top[k][1], k) if k in top else None for k in ("cam_from_bench", "proj_from_bench")}
    k_cam = rd.matrix(top["camera_matrix"][1], "camera_matrix") if "camera_matrix" in top else np.eye(3)
    dist = (
        rd.numbers(top["dist_coeffs"][1], "dist_coeffs", DIST_LENGTHS)
        if "dist_coeffs" in top
        else np.zeros(5)
    )
    model: dict[str, np.ndarray] | None = None
    if "projector_model" in top:
        m_entries = rd.entries(top["projector_model"][1], "projector_model")
        model = {}
        for key in MODEL_KEYS:
            if key not in m_entries:
                p.error(top["projector_model"][0], f"projector_model needs '{key}'; {RECALIBRATE}")
                continue
            node = m_entries[key][1]
            got = (
                rd.matrix(node, key)
                if key == "projector_matrix"
                else rd.numbers(node, key, DIST_LENGTHS if key == "projector_dist" else (3,))
            )
            if got is not None:
                model[key] = got
    report: dict[str, object] = {}
    if "report" in top:
        node = top["report"][1]
        try:
            value = SafeConstructor().construct_document(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as e:
            p.error(node, f"the report cannot be read ({shorten(str(e), 120)})")
        else:
            if isinstance(value, dict):
                report = value
            else:
                p.error(node, "report must be a mapping")
    cfb, pfb = mats["cam_from_bench"], mats["proj_from_bench"]
    if p.errors or cam is None or proj is None or bench is None:
        raise FileProblems(p.items)
    if k_cam is None or dist is None or cfb is None or pfb is None:
        raise FileProblems(p.items)
    doc = CalibrationDoc(cam, proj, bench, cfb, pfb, k_cam, dist, model, report)
    if "radiometry" in top:
        doc.radiometry = _radiometry(rd, top["radiometry"][1], bench)
        if p.errors:
            raise FileProblems(p.items)
    return doc


def _radiometry(
    rd: _Read, node: yaml.Node, bench: tuple[float, float]
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The radiometric images, checked from their headers before they are read; None if the file is gone
    (the station then measures them again)."""
    p = rd.p
    e = rd.entries(node, "radiometry")
    if "mm_per_px" not in e or "file" not in e:
        p.error(node, f"radiometry needs 'mm_per_px' and 'file'; {RECALIBRATE}")
        return None
    mm = rd.r.number(e["mm_per_px"][1], "radiometry mm_per_px", minimum=MM_PER_PX[0], maximum=MM_PER_PX[1])
    fnode = e["file"][1]
    name = rd.r.string(fnode, "radiometry file")
    if mm is None or name is None:
        return None
    if Path(name).name != name or name in (".", ".."):
        p.error(
            fnode,
            f"the radiometry file '{shorten(name, 300)}' must be next to the calibration file: give its name only",
        )
        return None
    npz = rd.path.parent / name
    if path_state(npz) == "missing":
        return None
    w, h = round(bench[0] / mm), round(bench[1] / mm)
    if w * h > MAX_RADIOMETRY_PX:
        p.error(
            e["mm_per_px"][1],
            f"radiometry at {mm:g} mm/px makes {w} x {h} px images; use a coarser mm_per_px",
        )
        return None
    damaged = f"the radiometry file '{shorten(name, 300)}' is damaged"
    fix = "delete it (the station then measures it again) or recalibrate"
    if path_state(npz) != "file" or npz.stat().st_size > MAX_NPZ_BYTES:
        p.error(fnode, f"{damaged} (not a file of at most {MAX_NPZ_BYTES // 1_000_000} MB); {fix}")
        return None
    arrays: list[np.ndarray] = []
    try:
        with zipfile.ZipFile(npz) as z:
            for key in ("black", "white"):
                with z.open(f"{key}.npy") as f:
                    shape, dtype = _npy_header(f)
                if shape != (h, w, 3) or dtype.kind not in "fu":
                    shown = " x ".join(str(n) for n in reversed(shape[:2])) if len(shape) >= 2 else str(shape)
                    p.error(
                        fnode,
                        f"{damaged} or from another calibration: it holds {shown} px images of {dtype}, the bench "
                        f"at {mm:g} mm/px needs {w} x {h}; {fix}",
                    )
                    return None
                with z.open(f"{key}.npy") as f:
                    arrays.append(np.lib.format.read_array(f, allow_pickle=False))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        p.error(fnode, f"{damaged} ({shorten(str(err), 120)}); {fix}")
        return None
    if not all(np.isfinite(a).all() for a in arrays):
        p.error(fnode, f"{damaged} (not every value is a number); {fix}")
        return None
    return mm, arrays[0], arrays[1]


def _npy_header(f: object) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of a .npy stream from its header alone."""
    fmt = np.lib.format
    version = fmt.read_magic(f)  # type: ignore[arg-type]
    if version == (1, 0):
        shape, _, dtype = fmt.read_array_header_1_0(f)  # type: ignore[arg-type]
    elif version == (2, 0):
        shape, _, dtype = fmt.read_array_header_2_0(f)  # type: ignore[arg-type]
    else:
        raise ValueError(f"unknown .npy version {version}")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise ValueError(f"arrays of shape {shape}")
    return tuple(shape), dtype
