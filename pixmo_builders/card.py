"""README.md data card of a release: schema, counts, licence and the provenance statement."""

from __future__ import annotations

PROVENANCE_STATEMENT = (
    "No image reached any language model while this data was made: every language model in the "
    "pipeline is text-only and saw only text (transcripts, captions, OCR text, questions, code)."
)
AUDIO_STATEMENT = (
    "Every spoken caption has its audio receipt (the annotator's recording, with its sha256) kept "
    "by the platform; the recording is the evidence that a person, not a model, described the image."
)


def render_data_card(*, manifest: dict) -> str:
    release = manifest["release"]
    sections = [
        _header(manifest=manifest, release=release),
        _counts(manifest=manifest),
        _schema(manifest=manifest),
        _provenance(release=release),
        _method(manifest=manifest, release=release),
        f"## Licence\n\n{release['licence']}\n",
    ]
    return "\n".join(sections)


def _header(*, manifest: dict, release: dict) -> str:
    description = release.get("description") or f"A {manifest['dataset']} release made by PixMo Studio."
    return (
        f"---\nlicense: {release['licence'].lower()}\n---\n\n# {manifest['dataset']}\n\n{description}\n\n"
        f"Schema version {manifest['schema_version']}, code version `{manifest['code_version']}`, "
        f"created {manifest['created_at']}.\n"
    )


def _counts(*, manifest: dict) -> str:
    lines = [
        "## Counts\n",
        "| split | rows | samples (images) | parquet files | shards |",
        "|---|---|---|---|---|",
    ]
    for name, split in manifest["splits"].items():
        lines.append(
            f"| {name} | {split['rows']} | {split['samples']} | {len(split['parquet'])} | {len(split['shards'])} |"
        )
    lines.append(
        f"\nRows held out because their image belongs to an evaluation set: {manifest['rows_held_out']}."
    )
    if "rows_duplicate" in manifest:
        lines.append(
            f"Rows dropped as duplicates (same image and same released values as an earlier row): "
            f"{manifest['rows_duplicate']}."
        )
    for key, count in manifest.get("meta_counts", {}).items():
        lines.append(f"Rows flagged `{key}`: {count}.")
    return "\n".join(lines) + "\n"


def _schema(*, manifest: dict) -> str:
    lines = ["## Columns\n", "| column | type |", "|---|---|"]
    lines.extend(f"| `{name}` | `{kind}` |" for name, kind in manifest["columns"].items())
    lines.append(
        "\nParquet files are under `data/`; `shards/` holds tar files with the image bytes and one JSON per "
        "image (`rows` are the released rows of that image)."
    )
    return "\n".join(lines) + "\n"


def _provenance(*, release: dict) -> str:
    lines = ["## Provenance\n", PROVENANCE_STATEMENT, ""]
    if release.get("audio_receipts_kept"):
        lines.extend([AUDIO_STATEMENT, ""])
    entries = release.get("provenance") or []
    if entries:
        lines.extend(
            ["| field | step | model | revision | prompt | prompt sha256 |", "|---|---|---|---|---|---|"]
        )
        for entry in entries:
            lines.append(
                f"| `{entry['field']}` | {entry['step']} | {entry['model']} | {entry['revision'] or '-'} | "
                f"{entry['prompt_id'] or '-'} | {entry['prompt_sha256'][:12] or '-'} |"
            )
    else:
        lines.append("No model wrote any released field.")
    return "\n".join(lines) + "\n"


def _method(*, manifest: dict, release: dict) -> str:
    policy = manifest["split_policy"]
    accepted = (
        "Only reviewer-accepted work is included."
        if release["accepted_only"]
        else ("Work not (yet) accepted by a reviewer is included.")
    )
    lines = [
        "## How the release was cut\n",
        accepted,
        f"Splits are by image sha256 with seed {policy['seed']} and validation fraction "
        f"{policy['validation_fraction']}; {policy['heldout_images']} evaluation images are held out of training.",
        f"Filters: `{release.get('filters') or {}}`.",
    ]
    lines.extend(release.get("notes") or [])
    return "\n".join(lines) + "\n"
