"""The human-preference leaderboard from stored compare judgments."""

from __future__ import annotations

from annotation_app.analytics.elo import TREATMENT, Judgment, elo_leaderboard
from annotation_app.models import PreferenceJudgment, Project, ProjectKind


def leaderboard(*, project_id: int | None = None, bootstrap: int = 200) -> dict:
    judgments = PreferenceJudgment.objects.all()
    if project_id is not None:
        judgments = judgments.filter(compare_item__work_item__project_id=project_id)
    rows = judgments.values_list("compare_item__model_a", "compare_item__model_b", "winner")
    board = elo_leaderboard(judgments=[Judgment(a, b, w) for a, b, w in rows], bootstrap=bootstrap)
    return {
        "board": board,
        "treatment": TREATMENT,
        "projects": list(Project.objects.filter(kind=ProjectKind.COMPARE).order_by("name")),
        "project_id": project_id,
    }
