"""Write generated docs as a complete pixmo-docs release, with the yield in its card."""

from __future__ import annotations

import json
from collections.abc import Callable

from pixmo_builders.docs import prompts
from pixmo_builders.docs.chat import TextChat
from pixmo_builders.docs.generator import DocsYield, attempt_fingerprint, generate_docs
from pixmo_builders.docs.journal import StorageJournal
from pixmo_builders.docs.renderers import Renderer, available_renderers
from pixmo_builders.manifest import ProvenanceEntry, ReleaseInfo
from pixmo_builders.split import SplitPolicy
from pixmo_builders.writer import ReleaseWriter, WriteProgress


def docs_provenance(*, chat: TextChat) -> tuple[ProvenanceEntry, ...]:
    model = str(chat.identity.get("name") or chat.identity.get("model") or chat.identity)
    revision = str(chat.identity.get("revision") or chat.identity.get("sha256") or "")
    return tuple(
        ProvenanceEntry(
            field=field,
            step=step,
            model=model,
            revision=revision,
            prompt_id=template.prompt_id,
            prompt_sha256=template.sha256,
        )
        for field, step, template in (
            ("image", "docs-data (data shown in the image)", prompts.DATA),
            ("image", "docs-code (code rendered to the image)", prompts.CODE),
            ("questions", "docs-qa (from the code alone)", prompts.QUESTION),
            ("questions", "docs-summary (from the code alone)", prompts.SUMMARY),
        )
    )


def write_docs_release(
    *,
    chat: TextChat,
    n: int,
    location: str,
    seed: int = 0,
    validation_fraction: float = 0.05,
    shard_max_samples: int = 1000,
    on_progress: Callable[[WriteProgress], None] | None = None,
    on_attempt: Callable[[DocsYield], None] | None = None,
    renderers: dict[str, Renderer] | None = None,
) -> tuple[dict, DocsYield]:
    """Generate `n` attempts into a release; run again on the same location after a crash, it
    replays the attempts already made (no model calls) and carries on from the first missing one."""
    stats = DocsYield()
    renderers = renderers or available_renderers()
    info = ReleaseInfo(
        dataset="pixmo-docs",
        filters={"generator": "pixmo_builders.docs", "attempts": n, "seed": seed},
        provenance=docs_provenance(chat=chat),
        accepted_only=False,
        description="Synthetic documents (charts, tables, diagrams): a text-only LLM wrote the data and the "
        "rendering code, the code was run in a sandbox, and questions were written from the code alone.",
    )
    fingerprint = attempt_fingerprint(chat=chat, seed=seed, renderers=renderers)
    writer = ReleaseWriter(
        location=location,
        info=info,
        shard_max_samples=shard_max_samples,
        on_progress=on_progress,
        split_policy=SplitPolicy(validation_fraction=validation_fraction, seed=seed),
        resume_key=fingerprint,
    )
    journal = StorageJournal(storage=writer.storage, fingerprint=fingerprint)
    with writer:
        rows = generate_docs(
            chat=chat, n=n, seed=seed, stats=stats, on_attempt=on_attempt, journal=journal, renderers=renderers
        )
        for row in rows:
            writer.add(row)
        manifest = writer.finish(
            notes=(
                f"Generation yield: `{json.dumps(stats.summary())}`.",
                "Rows whose data, code or questions came from a template rather than the "
                "model say so in their shard JSON `metas`.",
            )
        )
    journal.clear()
    return manifest, stats
