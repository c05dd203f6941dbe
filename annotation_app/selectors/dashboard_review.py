"""The review page: a project's pending outputs and everything a reviewer needs to judge one."""

from __future__ import annotations

import difflib
import re

from django.db.models import Count, OuterRef, Prefetch, Subquery

from annotation_app.errors import NotFound
from annotation_app.models import (
    AskThread,
    Caption,
    CaptionVersion,
    PointSet,
    Project,
    ProjectKind,
    Recording,
    ReviewStatus,
    Transcript,
)
from annotation_app.models.ask import AskThreadStatus
from annotation_app.models.captions import CaptionSource
from annotation_app.selectors.caption_guards import (
    caption_fallback_note,
    caption_flag_labels,
    draft_reasons,
    draft_verdict,
    draft_words,
    sentence_edits,
)
from annotation_app.selectors.media import image_url, recording_playback_url

QUEUE_SHOWN = 200
_TOKEN = re.compile(r"\S+")
_PUNCTUATION = re.compile(r"[^\w']+")


def _key(word: str) -> str:
    """Words compare without case or punctuation: "Table." and "table" are the same word."""
    return _PUNCTUATION.sub("", word.lower()) or word


def _current_text_subquery():
    return (
        CaptionVersion.objects.filter(caption=OuterRef("pk")).exclude(source=CaptionSource.LLM_REJECTED)
        .order_by("-number").values("text")[:1]
    )


def review_pending(*, project: Project) -> list[dict]:
    """The project's outputs awaiting review, flagged captions first, then oldest first."""
    if project.kind == ProjectKind.CAPTION:
        captions = (
            Caption.objects.filter(work_item__project=project, review_status=ReviewStatus.PENDING)
            .annotate(text=Subquery(_current_text_subquery())).order_by("created_at")[:QUEUE_SHOWN]
        )
        rows = [{"id": c.pk, "title": (c.text or "")[:80], "flags": caption_flag_labels(c.guard_flags),
                 "item": c.work_item_id}
                for c in captions]
        return sorted(rows, key=lambda r: not r["flags"])
    if project.kind == ProjectKind.POINTS:
        sets = PointSet.objects.filter(work_item__project=project, review_status=ReviewStatus.PENDING)
        return [{"id": p.pk, "title": f"{p.label} ×{p.count}" if not p.not_present else f"{p.label}: not present",
                 "flags": [], "item": p.work_item_id} for p in sets.order_by("created_at")[:QUEUE_SHOWN]]
    if project.kind == ProjectKind.ASK:
        threads = AskThread.objects.filter(
            work_item__project=project, review_status=ReviewStatus.PENDING, status=AskThreadStatus.ACCEPTED
        )
        return [{"id": t.pk, "title": t.question[:80], "flags": [], "item": t.work_item_id}
                for t in threads.order_by("created_at")[:QUEUE_SHOWN]]
    return []


def word_diff(*, before: str, after: str) -> tuple[list[dict], list[dict]]:
    """Word-level diff: ([{"text", "changed"}] of `before`, the same of `after`).

    A word is marked changed in `before` when the refinement removed or replaced it, and in
    `after` when the refinement inserted it or put it in place of another.
    """
    old, new = _TOKEN.findall(before), _TOKEN.findall(after)
    old_marks, new_marks = [False] * len(old), [False] * len(new)
    matcher = difflib.SequenceMatcher(a=[_key(w) for w in old], b=[_key(w) for w in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            old_marks[i1:i2] = [True] * (i2 - i1)
            new_marks[j1:j2] = [True] * (j2 - j1)
    return ([{"text": w, "changed": m} for w, m in zip(old, old_marks)],
            [{"text": w, "changed": m} for w, m in zip(new, new_marks)])


def caption_review_detail(*, project: Project, caption_id: int) -> dict:
    caption = (
        Caption.objects.filter(pk=caption_id, work_item__project=project).select_related("work_item__image")
        .prefetch_related(
            Prefetch("transcripts", queryset=Transcript.objects.select_related("recording__annotator").order_by("id")),
            Prefetch("versions", queryset=CaptionVersion.objects.select_related("edited_by").order_by("number")),
        ).first()
    )
    if caption is None:
        raise NotFound(f"caption {caption_id} is not in project '{project.slug}'")
    versions = list(caption.versions.all())
    current = next((v for v in reversed(versions) if v.source != CaptionSource.LLM_REJECTED), None)
    transcripts = list(caption.transcripts.all())
    caption_text = current.text if current else ""
    # Each transcript is compared with the caption on its own; a caption word is highlighted
    # when no transcript said it there (for a merged caption, one speaker's words are not "added").
    diffs = [word_diff(before=t.text, after=caption_text) for t in transcripts]
    caption_words = diffs[0][1] if diffs else word_diff(before="", after=caption_text)[1]
    for _, after in diffs[1:]:
        caption_words = [{"text": w["text"], "changed": w["changed"] and o["changed"]}
                         for w, o in zip(caption_words, after)]
    receipts = [_receipt(t.recording, t, words) for t, (words, _) in zip(transcripts, diffs)]
    rejected = next((v for v in reversed(versions) if v.source == CaptionSource.LLM_REJECTED), None)
    image = caption.work_item.image
    return {
        "kind": "caption", "target": caption, "image_url": image_url(image=image), "image": image,
        "receipts": receipts, "caption_words": caption_words,
        "current": current, "versions": versions, "history": _history(versions, current),
        "rejected": _rejected_draft(rejected, [t.text for t in transcripts]) if rejected else None,
        "fallback_note": caption_fallback_note(flags=caption.guard_flags, has_draft=rejected is not None),
        "sentence_edits": _sentence_edits(versions),
    }


def _sentence_edits(versions: list[CaptionVersion]) -> dict | None:
    """The refinement's per-sentence record (sentence strategy): the first version a pipeline wrote
    holds it, whatever edits a reviewer made after."""
    for version in versions:
        rows = sentence_edits(guard_report=version.guard_report or {})
        if rows:
            return {"rows": rows, "changed": sum(r["state"] == "changed" for r in rows),
                    "refused": sum(r["state"] == "refused" for r in rows)}
    return None


def _rejected_draft(version: CaptionVersion, transcripts: list[str]) -> dict:
    """The language model draft the guards turned down, its invented words marked, and why, in words."""
    verdict = draft_verdict(draft=version.text, guard_report=version.guard_report, transcripts=transcripts)
    return {"version": version, "reasons": draft_reasons(verdict=verdict),
            "words": draft_words(draft=version.text, invented=verdict.get("novel_words", []))}


# What the history calls each kind of version; a rejected draft says so (it never was the caption).
_HISTORY_SOURCE = {CaptionSource.LLM_REJECTED: "Language model draft, rejected by the guards"}


def _history(versions: list[CaptionVersion], current: CaptionVersion | None) -> list[dict]:
    return [{"number": v.number, "text": v.text, "created_at": v.created_at,
             "source": _HISTORY_SOURCE.get(v.source, v.get_source_display()),
             "by": v.edited_by.username if v.edited_by else "",
             "rejected": v.source == CaptionSource.LLM_REJECTED, "current": v == current}
            for v in versions]


# The audio checks' flags (pipelines.audio) as a reviewer reads them.
_AUDIO_FLAG_LABELS = {
    "too_short": "shorter than the minimum", "too_long": "longer than the maximum", "silent": "silent",
    "mostly_non_speech": "mostly not speech", "wrong_language": "not the project's language",
    "speaking_rate_out_of_range": "unusual speaking rate",
}


def _receipt(recording: Recording, transcript: Transcript, words: list[dict]) -> dict:
    return {
        "recording": recording, "annotator": recording.annotator.username,
        "audio_url": recording_playback_url(recording=recording),
        "duration_s": recording.duration_s, "transcript_words": words,
        "flags": [_AUDIO_FLAG_LABELS.get(flag, flag.replace("_", " ")) for flag in recording.flags],
    }


def point_set_review_detail(*, project: Project, point_set_id: int) -> dict:
    point_set = (
        PointSet.objects.filter(pk=point_set_id, work_item__project=project)
        .select_related("work_item__image", "annotator").first()
    )
    if point_set is None:
        raise NotFound(f"point set {point_set_id} is not in project '{project.slug}'")
    image = point_set.work_item.image
    return {"kind": "point_set", "target": point_set, "image_url": image_url(image=image),
            "image": image, "points": point_set.points, "marker_r": max(2.0, max(image.width, image.height) / 100)}


def ask_thread_review_detail(*, project: Project, thread_id: int) -> dict:
    thread = (
        AskThread.objects.filter(pk=thread_id, work_item__project=project)
        .select_related("work_item__image", "annotator").prefetch_related("turns").first()
    )
    if thread is None:
        raise NotFound(f"ask thread {thread_id} is not in project '{project.slug}'")
    return {"kind": "ask_thread", "target": thread, "image_url": image_url(image=thread.work_item.image),
            "image": thread.work_item.image, "turns": list(thread.turns.all())}


def review_detail(*, project: Project, target_id: int) -> dict:
    if project.kind == ProjectKind.CAPTION:
        return caption_review_detail(project=project, caption_id=target_id)
    if project.kind == ProjectKind.POINTS:
        return point_set_review_detail(project=project, point_set_id=target_id)
    if project.kind == ProjectKind.ASK:
        return ask_thread_review_detail(project=project, thread_id=target_id)
    raise NotFound(f"project '{project.slug}' has nothing to review: {project.get_kind_display()} projects are judged, not reviewed")


def review_page(*, project: Project, target_id: int | None) -> dict:
    """The queue, the item shown (the one asked for, else the first pending), and the next one."""
    pending = review_pending(project=project)
    if target_id is None and pending:
        target_id = pending[0]["id"]
    detail = review_detail(project=project, target_id=target_id) if target_id is not None else None
    ids = [row["id"] for row in pending]
    position = ids.index(target_id) if target_id in ids else -1
    following = [i for i in ids[position + 1:] + ids[:max(position, 0)] if i != target_id]
    return {"project": project, "pending": pending, "detail": detail,
            "next_id": following[0] if following else None, "position": position}


def review_projects() -> list[dict]:
    """Reviewable projects with how many outputs await review in each."""
    pending: dict[int, int] = {}
    querysets = (
        Caption.objects.filter(review_status=ReviewStatus.PENDING),
        PointSet.objects.filter(review_status=ReviewStatus.PENDING),
        AskThread.objects.filter(review_status=ReviewStatus.PENDING, status=AskThreadStatus.ACCEPTED),
    )
    for queryset in querysets:
        for project_id, n in queryset.values_list("work_item__project").annotate(n=Count("id")):
            pending[project_id] = pending.get(project_id, 0) + n
    projects = Project.objects.exclude(kind=ProjectKind.COMPARE).order_by("name")
    return [{"project": p, "pending": pending.get(p.pk, 0)} for p in projects]
