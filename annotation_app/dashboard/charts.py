"""Chart.js configurations built from selector output; the page passes them via json_script.

Every chart is a plain dict that `static/annotation_app/dashboard/charts.js` hands to Chart.js,
so the numbers a chart draws are the numbers a test can read from the page.
"""

from __future__ import annotations

from datetime import date, datetime

PALETTE = ("#2f6fde", "#e07b39", "#3aa76d", "#b3261e", "#8e59c9", "#c9a227", "#3bb3c3", "#6b7280")


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _label(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d %b %H:00")
    if isinstance(value, date):
        return value.strftime("%d %b")
    return str(value)


def bar_chart(*, labels, series: dict[str, list], stacked: bool = False, horizontal: bool = False,
              y_title: str = "") -> dict:
    datasets = [{"label": name, "data": values, "backgroundColor": _colour(i)}
                for i, (name, values) in enumerate(series.items())]
    scales = {"x": {"stacked": stacked}, "y": {"stacked": stacked, "beginAtZero": True,
                                              "title": {"display": bool(y_title), "text": y_title}}}
    options = {"responsive": True, "maintainAspectRatio": False, "animation": False, "scales": scales}
    if horizontal:
        options["indexAxis"] = "y"
    return {"type": "bar", "data": {"labels": [_label(v) for v in labels], "datasets": datasets}, "options": options}


def line_chart(*, labels, series: dict[str, list], y_title: str = "") -> dict:
    datasets = [{"label": name, "data": values, "borderColor": _colour(i), "backgroundColor": _colour(i),
                 "tension": 0.2, "spanGaps": True, "pointRadius": 2}
                for i, (name, values) in enumerate(series.items())]
    return {
        "type": "line",
        "data": {"labels": [_label(v) for v in labels], "datasets": datasets},
        "options": {"responsive": True, "maintainAspectRatio": False, "animation": False,
                    "scales": {"y": {"beginAtZero": True, "title": {"display": bool(y_title), "text": y_title}}}},
    }


def interval_chart(*, names: list[str], centres: list[float], lows: list[float], highs: list[float]) -> dict:
    """A forest plot: a floating bar for each 95 % interval and a point at the estimate."""
    return {
        "type": "bar",
        "data": {
            "labels": names,
            "datasets": [
                {"type": "scatter", "label": "Elo", "data": [{"x": c, "y": n} for c, n in zip(centres, names)],
                 "backgroundColor": PALETTE[3], "pointRadius": 5},
                {"label": "95 % interval", "data": [[lo, hi] for lo, hi in zip(lows, highs)],
                 "backgroundColor": "rgba(47,111,222,.35)", "barPercentage": 0.4},
            ],
        },
        "options": {"indexAxis": "y", "responsive": True, "maintainAspectRatio": False, "animation": False,
                    "scales": {"x": {"beginAtZero": False,
                                     "title": {"display": True, "text": "Elo (400·log10, centre 1000)"}},
                               "y": {"type": "category"}}},
    }
