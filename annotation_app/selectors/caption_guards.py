"""The refinement guards' verdicts in words: why a language model draft was not made the caption.

The guards (pipelines.guards) store their verdict on the rejected draft's version as
`guard_report` ({"failed", "checks": [{name, value, threshold, passed}], "novel_words"}) and
their failed check names on the caption as `guard:<name>` flags. A page shows neither raw:
it says what failed, with the numbers and the invented words.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.cleanup import clean_transcript
from pipelines.guards import GuardPolicy, check_caption
from pipelines.metrics import normalise_words

# Short labels for a caption's flags, where a list of captions has room for a few words only.
_FLAG_LABELS = {
    "guard:empty": "empty draft",
    "guard:too_short": "draft too short",
    "guard:too_long": "draft too long",
    "guard:invented_words": "invented words",
    "guard:invented_ratio": "invented words",
    "llm_error": "language model failed",
    "fallback_to_cleanup": "clean-up used",
}
_INVENTED_CHECKS = ("invented_words", "invented_ratio")


def caption_flag_labels(flags: Sequence[str]) -> list[str]:
    """Each distinct flag in words, in the order raised ("invented words", "draft too long")."""
    labels = (_FLAG_LABELS.get(flag) or flag.removeprefix("guard:").replace("_", " ") for flag in flags)
    return list(dict.fromkeys(labels))


def draft_verdict(*, draft: str, guard_report: dict, transcripts: Sequence[str]) -> dict:
    """The verdict stored with the draft, or, where none was stored, the guards run again on it.

    The guards judge the draft against the cleaned transcripts, so the re-run cleans them first.
    """
    if guard_report.get("checks"):
        return guard_report
    cleaned = [clean_transcript(text) for text in transcripts]
    return check_caption(caption=draft, transcripts=cleaned, policy=GuardPolicy()).to_dict()


def draft_reasons(*, verdict: dict) -> list[str]:
    """One sentence per failed guard; the two invented-word checks make one sentence together."""
    checks = {check["name"]: check for check in verdict.get("checks", [])}
    failed = [name for name, check in checks.items() if not check["passed"]]
    reasons = []
    if any(name in _INVENTED_CHECKS for name in failed):
        reasons.append(_invented_sentence(verdict.get("novel_words", []), checks))
    return reasons + [_check_sentence(checks[name]) for name in failed if name not in _INVENTED_CHECKS]


def _check_sentence(check: dict) -> str:
    # value and threshold are word-count ratios for the two length checks (pipelines.guards).
    value, threshold = _percent(check["value"]), _percent(check["threshold"])
    if check["name"] == "empty":
        return "The draft has no words."
    if check["name"] == "too_short":
        return (f"The draft is too short: it has {value} of the words of the longest transcript, "
                f"where the guard asks for at least {threshold}.")
    if check["name"] == "too_long":
        return (f"The draft is too long: it has {value} of the words of all transcripts together, "
                f"where the guard allows at most {threshold}.")
    return f"The draft failed the {check['name'].replace('_', ' ')} check."


def caption_fallback_note(*, flags: Sequence[str], has_draft: bool) -> str:
    """Why the caption is the clean-up when no rejected draft tells it ("" when a draft does)."""
    if "llm_error" in flags:
        return ("The language model gave no draft (its request failed), so the caption is the "
                "deterministic clean-up of the transcript.")
    if has_draft or not flags:
        return ""
    if list(flags) == ["fallback_to_cleanup"]:
        return ("The caption is the deterministic clean-up of the transcript; "
                "no language model draft was kept.")
    return f"Flagged by the refinement: {', '.join(caption_flag_labels(flags))}."


def _invented_sentence(words: Sequence[str], checks: dict) -> str:
    listed = ", ".join(words)
    opening = (f"This word appears in no transcript: {listed}." if len(words) == 1
               else f"These {len(words)} words appear in no transcript: {listed}.")
    allowed_words = checks.get("invented_words", {}).get("threshold")
    ratio, allowed_ratio = (checks.get("invented_ratio", {}).get(key) for key in ("value", "threshold"))
    if allowed_words is None or ratio is None:
        return opening
    share = "It is" if len(words) == 1 else "They are"
    return (f"{opening} {share} {_percent(ratio)} of the draft's distinct content words; the guard allows "
            f"at most {int(allowed_words)} such words and {_percent(allowed_ratio)}.")


def sentence_edits(*, guard_report: dict) -> list[dict]:
    """The sentence strategy's outcome per sentence, as the review page lists it: [{"source",
    "rewrite", "state": "changed" | "refused" | "unchanged", "reasons"}]; [] for a whole-caption
    refinement. "refused" is a rewrite the sentence guards turned down (the sentence stayed)."""
    rows = []
    for record in guard_report.get("sentences") or []:
        state = "changed" if record.get("changed") else "unchanged" if record.get("kept") else "refused"
        rows.append({"source": record.get("source", ""), "rewrite": record.get("rewrite") or "",
                     "state": state, "reasons": record.get("reasons", [])})
    return rows


def draft_words(*, draft: str, invented: Sequence[str]) -> list[dict]:
    """The draft as [{"text", "invented"}] tokens, marking those that hold an invented word."""
    novel = set(invented)
    return [{"text": token, "invented": any(word in novel for word in normalise_words(token))}
            for token in draft.split()]


def _percent(fraction: float) -> str:
    return f"{round(100 * fraction)} %"
