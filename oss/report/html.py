"""The report as one self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched), and
one printable skills record per operator."""

from __future__ import annotations

from collections import defaultdict
from html import escape
from pathlib import Path

from oss.report import svg
from oss.report.learning import LEVELS, RECENT_UNITS
from oss.report.model import Report, Table, Value

MAX_CURVES = 60
MAX_ROWS = 400

CSS = """
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:24px;
max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px;border-bottom:2px solid #2b6cb0}
h3{font-size:14px;margin:16px 0 4px}.meta{color:#555}.note{color:#555;font-size:12px;margin:2px 0 8px}
.warn{background:#fff5eb;border-left:4px solid #dd6b20;padding:4px 8px;margin:6px 0}
table{border-collapse:collapse;margin:6px 0 12px;font-size:12px}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right;white-space:nowrap}
th{background:#edf2f7}td.t,th.t{text-align:left}tr.hot td{background:#fff5eb}
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:6px;margin:8px 0}
.kv div{border:1px solid #ddd;border-radius:4px;padding:4px 8px}.kv b{display:block;font-size:16px}
.lv0{background:#fff}.lv1{background:#fefcbf}.lv2{background:#c6f6d5}.lv3{background:#68d391}.lv4{background:#2f855a;color:#fff}
.plots{display:flex;flex-wrap:wrap;gap:8px}svg{max-width:100%;height:auto}
.sign{margin-top:40px;display:flex;gap:60px}.sign div{border-top:1px solid #222;width:220px;padding-top:4px}
@media print{body{margin:10mm;max-width:none}h2{break-after:avoid}section,table,svg{break-inside:avoid}
a{color:inherit;text-decoration:none}}
"""


def _cell(col: str, v: Value) -> str:
    if v is None or v == "":
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if col.endswith("_pct"):
            return f"{v:.1f} %"
        return f"{v:.1f}" if abs(v) >= 1 or v == 0 else f"{v:.3g}"
    return escape(str(v))


def table_html(
    t: Table, columns: tuple[str, ...] | None = None, hot: set[int] | None = None, max_rows: int = MAX_ROWS
) -> str:
    cols = columns or t.columns
    ix = [t.columns.index(c) for c in cols]
    text_cols = {c for c in cols if all(isinstance(r[t.columns.index(c)], str | None) for r in t.rows)}
    head = "".join(
        f'<th class="{"t" if c in text_cols else ""}">{escape(c.replace("_", " "))}</th>' for c in cols
    )
    body = []
    for n, r in enumerate(t.rows[:max_rows]):
        cls = ' class="hot"' if hot and n in hot else ""
        tds = "".join(
            f'<td class="{"t" if c in text_cols else ""}">{_cell(c, r[i])}</td>'
            for c, i in zip(cols, ix, strict=True)
        )
        body.append(f"<tr{cls}>{tds}</tr>")
    more = (
        f'<p class="note">{len(t.rows) - max_rows} more rows in {t.name}.csv</p>'
        if len(t.rows) > max_rows
        else ""
    )
    note = f'<p class="note">{escape(t.note)}</p>' if t.note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}{note}"


def _page(title: str, body: list[str]) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{CSS}</style></head>'
        f"<body>{''.join(body)}</body></html>\n"
    )


def _filters_text(r: Report) -> str:
    f = r.filters
    parts = [
        f"{k}: {', '.join(v)}"
        for k, v in (
            ("stations", f.stations),
            ("operators", f.operators),
            ("products", f.products),
            ("variants", f.variants),
        )
        if v
    ]
    if f.since_utc or f.until_utc:
        parts.append(f"period (UTC): {f.since_utc or '…'} to {f.until_utc or '…'}")
    return "; ".join(parts) or "all events"


def render_html(r: Report) -> str:
    """The whole report as one HTML page."""
    s = r.table("summary").as_dict()
    body = [
        "<h1>OSS work report</h1>",
        f'<p class="meta">Source: {escape(r.source)} · {escape(_filters_text(r))} · '
        f"times in {escape(r.tz)} · "
        f"units from {escape(str(s['first_unit'] or '–'))} to {escape(str(s['last_unit'] or '–'))} · "
        f"made {escape(r.generated_utc)} UTC</p>",
        *(f'<p class="warn">{escape(n)}</p>' for n in r.notes),
        '<section><h2>Summary</h2><div class="kv">',
    ]
    for key, val in s.items():
        if key not in ("first_unit", "last_unit"):
            body.append(f"<div>{escape(key.replace('_', ' '))}<b>{_cell(key, val)}</b></div>")
    body.append("</div></section>")
    body += _output(r) + _cycle(r) + _steps(r) + _operators(r) + _competence(r)
    body.append(
        '<p class="note">How to read this report: docs/reports.md of OSS. CSV files of every table are '
        "written next to this file.</p>"
    )
    return _page("OSS work report", body)


def _output(r: Report) -> list[str]:
    day, prof = r.table("units_per_day"), r.table("hour_profile")
    out = ["<section><h2>Output</h2>"]
    if day.rows:
        out.append(
            svg.bar_chart(
                [str(d)[5:] for d in day.column("date")],
                [float(v or 0) for v in day.column("units")],
                "Units per day",
                "units",
            )
        )
    if prof.rows:
        out.append(
            svg.bar_chart(
                [f"{h}h" for h in prof.column("hour")],
                [float(v or 0) for v in prof.column("units_per_active_hour")],
                "Units per working hour, by hour of the day",
                "units / hour",
            )
        )
    out.append(f"<h3>{escape(day.title)}</h3>{table_html(day)}")
    out.append(f"<h3>{escape(prof.title)}</h3>{table_html(prof)}")
    lost = r.table("time_lost")
    out.append(f"<h3>{escape(lost.title)}</h3>{table_html(lost)}</section>")
    return out


def _cycle(r: Report) -> list[str]:
    hist, ct = r.table("cycle_time_histogram"), r.table("cycle_times")
    out = ["<section><h2>Cycle time</h2>", '<div class="plots">']
    groups: dict[tuple[str, str], list[tuple[float, float | None, int]]] = defaultdict(list)
    for prod, var, lo, hi, n in hist.rows:
        groups[(str(prod), str(var))].append((float(lo or 0), None if hi is None else float(hi), int(n or 0)))
    for (prod, var), bins in list(groups.items())[:12]:
        labels = [f"{lo:g}" + ("+" if hi is None else "") for lo, hi, _ in bins]
        name = f"{prod} {var}".strip()
        out.append(
            svg.bar_chart(
                labels, [float(n) for *_, n in bins], f"Cycle times of {name} (s)", "units", w=520, h=200
            )
        )
    out.append("</div>")
    out.append(f"{table_html(ct)}")
    v = r.table("versions")
    out.append(f"<h3>{escape(v.title)}</h3>{table_html(v)}</section>")
    return out


def _steps(r: Report) -> list[str]:
    t = r.table("steps")
    out = [
        "<section><h2>Steps</h2>",
        '<p class="note">Box: middle half of the durations, bar: median, whiskers: 10–90 %, red dashes: '
        "expected time. Highlighted rows: median over 120 % of expected, or more than 5 errors or help "
        "requests per 100 runs — the steps to improve first.</p>",
    ]
    groups: dict[tuple[str, str], list[tuple[int, tuple[Value, ...]]]] = defaultdict(list)
    for i, row in enumerate(t.rows):
        groups[(str(row[0]), str(row[1]))].append((i, row))
    c = {name: k for k, name in enumerate(t.columns)}
    hot = set()
    for i, row in enumerate(t.rows):
        ratio, e100, h100 = row[c["median_vs_expected_pct"]], row[c["errors_per_100"]], row[c["help_per_100"]]
        if (isinstance(ratio, float) and ratio > 120) or any(
            isinstance(x, float) and x > 5 for x in (e100, h100)
        ):
            hot.add(i)
    for (prod, var), rows in list(groups.items())[:20]:
        boxes = [
            (
                f"{row[c['step']]} v{row[c['version']]}",
                *(_f(row[c[f"p{p}_s"]]) for p in (10, 25, 50, 75, 90)),
                _f(row[c["expected_s"]]),
            )
            for _, row in rows[:40]
        ]
        out.append(f"<h3>{escape(f'{prod} {var}'.strip())}</h3>")
        out.append(svg.box_rows(boxes, f"Step durations of {prod} {var}"))  # type: ignore[arg-type]
    out.append(table_html(t, tuple(x for x in t.columns if x not in ("p10_s", "p90_s")), hot))
    out.append("</section>")
    return out


def _f(v: Value) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _operators(r: Report) -> list[str]:
    ops, curve = r.table("operators"), r.table("learning_curve")
    out = [
        "<section><h2>Operators</h2>",
        table_html(ops),
        "<h3>Learning curves</h3>",
        '<p class="note">Dots: median cycle time of the units in each range of unit numbers (log scale); '
        "dashed blue: the fitted curve T<sub>n</sub> = T<sub>1</sub>·n<sup>b</sup>; "
        "red: the standard time.</p>",
        '<div class="plots">',
    ]
    groups: dict[tuple[str, str, str], list[tuple[Value, ...]]] = defaultdict(list)
    for row in curve.rows:
        groups[(str(row[0]), str(row[1]), str(row[2]))].append(row)
    rate = {(str(o[0]), str(o[1]), str(o[2])): o[ops.columns.index("learning_rate_pct")] for o in ops.rows}
    for key, rows in list(groups.items())[:MAX_CURVES]:
        xs = tuple(((_f(r_[3]) or 1.0) * (_f(r_[4]) or 1.0)) ** 0.5 for r_ in rows)
        series = [svg.Series("median", xs, tuple(_f(r_[5]) or 0.0 for r_ in rows))]
        fitted = [_f(r_[6]) for r_ in rows]
        if all(v is not None for v in fitted):
            series.append(svg.Series("fitted", xs, tuple(v or 0.0 for v in fitted), dots=False, dashed=True))
        std = _f(rows[0][7])
        lr = rate.get(key)
        title = f"{key[0]} · {key[1]} {key[2]}".strip() + (
            f" · learning rate {lr:.0f} %" if isinstance(lr, float) else ""
        )
        out.append(f"<div><h3>{escape(title)}</h3>")
        out.append(
            svg.line_chart(
                series,
                title,
                "unit number",
                "cycle time (s)",
                log_x=True,
                hline=std,
                hline_label="standard" if std else "",
                w=520,
                h=200,
            )
        )
        out.append("</div>")
    out.append("</div></section>")
    return out


def _competence(r: Report) -> list[str]:
    t = r.table("competence")
    c = {name: k for k, name in enumerate(t.columns)}
    cols = sorted({(str(row[c["product"]]), str(row[c["variant"]])) for row in t.rows})
    people = sorted({str(row[c["operator"]]) for row in t.rows})
    cell = {(str(row[c["operator"]]), str(row[c["product"]]), str(row[c["variant"]])): row for row in t.rows}
    head = "".join(f"<th>{escape(f'{p} {v}'.strip())}</th>" for p, v in cols)
    body = []
    for op in people:
        tds = []
        for p, v in cols:
            row = cell.get((op, p, v))
            if row is None:
                tds.append('<td class="lv0">–</td>')
                continue
            lv = int(row[c["level"]] or 0)
            tds.append(
                f'<td class="lv{lv}" title="{row[c["units"]]} units">{lv} {escape(str(row[c["level_name"]]))}'
                f"<br><small>{row[c['units']]} units</small></td>"
            )
        body.append(f'<tr><td class="t">{escape(op)}</td>{"".join(tds)}</tr>')
    legend = "; ".join(
        f"{lv.rank} {lv.name}: ≥ {lv.min_units} units, first-time-right ≥ {lv.min_first_time_right:.0%}, "
        f"pace ≥ {lv.min_pace:.0%}"
        for lv in LEVELS
    )
    return [
        "<section><h2>Competence matrix</h2>",
        f'<table><thead><tr><th class="t">operator</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>",
        f'<p class="note">Judged on the last {RECENT_UNITS} units. {escape(legend)}.</p>',
        table_html(t),
        "</section>",
    ]


def skills_html(r: Report, operator: str) -> str:
    """A printable one-page skills record of ``operator``: what they have learnt, from the log."""
    comp, ops = r.table("competence"), r.table("operators")
    mine = [d for d in comp.as_dicts() if d["operator"] == operator]
    detail = {(d["product"], d["variant"]): d for d in ops.as_dicts() if d["operator"] == operator}
    rows = []
    for d in mine:
        o = detail.get((d["product"], d["variant"]), {})
        rows.append(
            f'<tr><td class="t">{escape(str(d["product"]))}</td>'
            f'<td class="t">{escape(str(d["variant"]) or "–")}</td>'
            f'<td class="lv{d["level"]} t">{d["level"]} {escape(str(d["level_name"]))}</td>'
            f"<td>{d['units']}</td><td>{_cell('first_time_right_pct', d['recent_first_time_right_pct'])}</td>"
            f"<td>{_cell('pace_pct', d['recent_pace_pct'])}</td>"
            f"<td>{escape(str(o.get('first_date') or '–'))}</td>"
            f"<td>{escape(str(o.get('last_date') or '–'))}</td></tr>"
        )
    body = [
        f"<h1>Skills record: {escape(operator)}</h1>",
        f'<p class="meta">From the OSS event log ({escape(r.source)}), {escape(_filters_text(r))}; '
        f"made {escape(r.generated_utc)} UTC.</p>",
        '<table><thead><tr><th class="t">product</th><th class="t">variant</th><th class="t">level</th>'
        "<th>units</th><th>first-time-right (recent)</th><th>pace (recent)</th><th>first unit</th>"
        f"<th>last unit</th></tr></thead><tbody>{''.join(rows)}</tbody></table>",
        f'<p class="note">Levels: {"; ".join(f"{lv.rank} {lv.name}" for lv in LEVELS)} '
        "(see the report for the "
        f"thresholds; recent = the last {RECENT_UNITS} units).</p>",
        '<div class="sign"><div>operator</div><div>supervisor</div><div>date</div></div>',
    ]
    return _page(f"Skills record {operator}", body)


def write_html(r: Report, folder: str | Path, skills: bool = True) -> list[Path]:
    """``report.html`` and, with ``skills``, ``skills/<operator>.html`` for every operator."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    main = out / "report.html"
    main.write_text(render_html(r), encoding="utf-8")
    paths = [main]
    if skills:
        (out / "skills").mkdir(exist_ok=True)
        for op in sorted({str(d["operator"]) for d in r.table("competence").as_dicts()}):
            p = out / "skills" / f"{_safe(op)}.html"
            p.write_text(skills_html(r, op), encoding="utf-8")
            paths.append(p)
    return paths


def _safe(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip("._")
    return keep or "operator"
