"""Small inline SVG charts for the HTML report: no scripts, no external files, prints in black and white.

Each function returns one ``<svg>`` element as a string; sizes are in CSS pixels and the drawing scales
with the page (``viewBox``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

W, H = 640, 220
PAD_L, PAD_R, PAD_T, PAD_B = 52, 12, 14, 34
INK, GRID, ACCENT, WARN, SOFT = "#222", "#ddd", "#2b6cb0", "#c05621", "#90cdf4"


def _fmt(v: float) -> str:
    if abs(v) >= 100 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2g}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _open(title: str, w: int = W, h: int = H) -> list[str]:
    return [
        f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]


@dataclass(frozen=True)
class _Axis:
    lo: float
    hi: float
    a: float  # pixel of lo
    b: float  # pixel of hi
    log: bool = False

    def __call__(self, v: float) -> float:
        if self.log:
            v, lo, hi = math.log10(max(v, 1e-9)), math.log10(self.lo), math.log10(self.hi)
        else:
            lo, hi = self.lo, self.hi
        return self.a + (v - lo) / ((hi - lo) or 1.0) * (self.b - self.a)


def _y_axis(out: list[str], y: _Axis, w: int, label: str) -> None:
    for t in nice_ticks(y.lo, y.hi):
        py = y(t)
        out.append(f'<line x1="{PAD_L}" x2="{w - PAD_R}" y1="{py:.1f}" y2="{py:.1f}" stroke="{GRID}"/>')
        out.append(f'<text x="{PAD_L - 4}" y="{py + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    out.append(
        f'<text x="12" y="{PAD_T + 4}" transform="rotate(-90 12 {PAD_T + 4})" text-anchor="end">'
        f"{escape(label)}</text>"
    )


def bar_chart(
    labels: Sequence[str], values: Sequence[float], title: str, y_label: str = "", w: int = W, h: int = H
) -> str:
    """Vertical bars, one per label (labels thinned out when there are many)."""
    out = _open(title, w, h)
    top = max([*values, 0.0]) or 1.0
    y = _Axis(0.0, top * 1.05, h - PAD_B, PAD_T)
    _y_axis(out, y, w, y_label)
    n = max(1, len(values))
    bw = (w - PAD_L - PAD_R) / n
    every = max(1, math.ceil(n / 14))
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        x = PAD_L + i * bw
        out.append(
            f'<rect x="{x + bw * 0.1:.1f}" y="{y(v):.1f}" width="{max(bw * 0.8, 0.5):.1f}" '
            f'height="{y(0) - y(v):.1f}" fill="{ACCENT}"><title>{escape(lab)}: {_fmt(v)}</title></rect>'
        )
        if i % every == 0:
            out.append(
                f'<text x="{x + bw / 2:.1f}" y="{h - PAD_B + 14}" text-anchor="middle">{escape(lab)}</text>'
            )
    out.append(f'<line x1="{PAD_L}" x2="{w - PAD_R}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="{INK}"/>')
    out.append("</svg>")
    return "\n".join(out)


@dataclass(frozen=True)
class Series:
    name: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    color: str = ACCENT
    dots: bool = True
    dashed: bool = False


def line_chart(
    series: Sequence[Series],
    title: str,
    x_label: str,
    y_label: str,
    *,
    log_x: bool = False,
    hline: float | None = None,
    hline_label: str = "",
    w: int = W,
    h: int = H,
) -> str:
    """Lines (and dots) for each series, an optional horizontal reference line (the standard)."""
    out = _open(title, w, h)
    xs = [x for s in series for x in s.xs] or [1.0]
    ys = [v for s in series for v in s.ys] + ([hline] if hline is not None else [])
    ys = ys or [1.0]
    x = _Axis(min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1, PAD_L, w - PAD_R, log_x and min(xs) > 0)
    y = _Axis(0.0, max(ys) * 1.08 or 1.0, h - PAD_B, PAD_T)
    _y_axis(out, y, w, y_label)
    if x.log:
        ticks = [10.0**k for k in range(math.floor(math.log10(x.lo)), math.ceil(math.log10(x.hi)) + 1)]
        ticks = [t for m in ticks for t in (m, 2 * m, 5 * m) if x.lo <= t <= x.hi]
    else:
        ticks = nice_ticks(x.lo, x.hi, 6)
    for t in ticks:
        out.append(f'<text x="{x(t):.1f}" y="{h - PAD_B + 14}" text-anchor="middle">{_fmt(t)}</text>')
    out.append(
        f'<text x="{(PAD_L + w - PAD_R) / 2:.0f}" y="{h - 4}" text-anchor="middle">{escape(x_label)}</text>'
    )
    if hline is not None:
        py = y(hline)
        out.append(
            f'<line x1="{PAD_L}" x2="{w - PAD_R}" y1="{py:.1f}" y2="{py:.1f}" stroke="{WARN}" '
            'stroke-dasharray="6 3"/>'
        )
        out.append(
            f'<text x="{w - PAD_R - 2}" y="{py - 4:.1f}" text-anchor="end" fill="{WARN}">'
            f"{escape(hline_label)}</text>"
        )
    for s in series:
        pts = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(s.xs, s.ys, strict=True))
        dash = ' stroke-dasharray="2 2"' if s.dashed else ""
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{s.color}" stroke-width="1.5"{dash}>'
            f"<title>{escape(s.name)}</title></polyline>"
        )
        if s.dots:
            out += [
                f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="2.2" fill="{s.color}"/>'
                for a, b in zip(s.xs, s.ys, strict=True)
            ]
    out.append(_legend(series, w))
    out.append("</svg>")
    return "\n".join(out)


def _legend(series: Sequence[Series], w: int) -> str:
    parts = []
    x = w - PAD_R - 150
    for i, s in enumerate(series):
        yy = PAD_T + 6 + i * 13
        dash = ' stroke-dasharray="2 2"' if s.dashed else ""
        parts.append(
            f'<line x1="{x}" x2="{x + 16}" y1="{yy}" y2="{yy}" stroke="{s.color}" stroke-width="2"{dash}/>'
            f'<text x="{x + 20}" y="{yy + 4}">{escape(s.name)}</text>'
        )
    return "".join(parts)


def box_rows(
    rows: Sequence[
        tuple[str, float | None, float | None, float | None, float | None, float | None, float | None]
    ],
    title: str,
    w: int = W,
) -> str:
    """One horizontal box per row: (label, p10, p25, median, p75, p90, expected); the expected time is a
    red tick. Whiskers p10–p90, box p25–p75, bar at the median."""
    lab_w = 150
    h = PAD_T + PAD_B + 18 * len(rows)
    out = _open(title, w, h)
    vals = [v for r in rows for v in r[1:] if v is not None] or [1.0]
    x = _Axis(0.0, max(vals) * 1.05, lab_w, w - PAD_R)
    for t in nice_ticks(x.lo, x.hi, 6):
        out.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{PAD_T}" y2="{h - PAD_B}" stroke="{GRID}"/>'
            f'<text x="{x(t):.1f}" y="{h - PAD_B + 14}" text-anchor="middle">{_fmt(t)}</text>'
        )
    out.append(f'<text x="{(lab_w + w) / 2:.0f}" y="{h - 4}" text-anchor="middle">seconds</text>')
    for i, (lab, p10, p25, p50, p75, p90, exp) in enumerate(rows):
        cy = PAD_T + 9 + 18 * i
        out.append(f'<text x="{lab_w - 6}" y="{cy + 4}" text-anchor="end">{escape(lab[:24])}</text>')
        if p10 is not None and p90 is not None:
            out.append(f'<line x1="{x(p10):.1f}" x2="{x(p90):.1f}" y1="{cy}" y2="{cy}" stroke="{INK}"/>')
        if p25 is not None and p75 is not None:
            out.append(
                f'<rect x="{x(p25):.1f}" y="{cy - 6}" width="{max(x(p75) - x(p25), 1):.1f}" height="12" '
                f'fill="{SOFT}" stroke="{INK}"/>'
            )
        if p50 is not None:
            out.append(
                f'<line x1="{x(p50):.1f}" x2="{x(p50):.1f}" y1="{cy - 7}" y2="{cy + 7}" stroke="{INK}" '
                'stroke-width="2.5"/>'
            )
        if exp is not None:
            out.append(
                f'<line x1="{x(exp):.1f}" x2="{x(exp):.1f}" y1="{cy - 8}" y2="{cy + 8}" stroke="{WARN}" '
                'stroke-width="2" stroke-dasharray="3 2"/>'
            )
    out.append("</svg>")
    return "\n".join(out)
