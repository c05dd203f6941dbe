"""README.md data cards: one per dataset (schema, counts, licence, provenance) and one per release
(its datasets' counts, filters and code version). Counts are tables and filters sentences, in the
cards and on the dashboard alike (`counts_grid`, `filters_sentence`)."""

from __future__ import annotations

from pixmo_builders.split import SPLITS

PROVENANCE_STATEMENT = (
    "No image reached any language model while this data was made: every language model in the "
    "pipeline is text-only and saw only text (transcripts, captions, OCR text, questions, code)."
)
AUDIO_STATEMENT = (
    "Every spoken caption has its audio receipt (the annotator's recording, with its sha256) kept "
    "by the platform; the recording is the evidence that a person, not a model, described the image."
)
INDEX_STATEMENT = (
    "`manifest.json` lists every file of the release with its sha256 and is written last: a release "
    "without it is incomplete."
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
        (
            f"Splits are by image sha256 with seed {policy['seed']} and validation fraction "
            f"{policy['validation_fraction']}; {policy['heldout_images']} evaluation images are held out of "
            "training."
        ),
        f"Filters: {filters_sentence(release.get('filters'))}",
    ]
    lines.extend(release.get("notes") or [])
    return "\n".join(lines) + "\n"


def render_release_card(*, index: dict) -> str:
    """The release's README.md: what it holds, how it was cut, and where each dataset's card is."""
    counts = {path: {split: info["rows"] for split, info in entry["splits"].items()}
              for path, entry in index["datasets"].items()}
    lines = [
        f"# {index['name']}\n",
        (
            f"A PixMo Studio release of {len(counts)} dataset(s). Code version `{index['code_version']}`, "
            f"schema version {index['schema_version']}, created {index['created_at']}.\n"
        ),
        "## Rows per split\n",
        *counts_markdown(counts),
        "",
        "## How the release was cut\n",
        f"Filters: {filters_sentence(index.get('filters'))}\n",
        "## Datasets\n",
    ]
    for path, entry in index["datasets"].items():
        lines.append(f"- `{path}/`: {entry['dataset']}, schema version {entry['schema_version']}; "
                     f"its card is `{path}/README.md`, its manifest `{path}/manifest.json`.")
    lines += ["", "## Provenance\n", PROVENANCE_STATEMENT, "", INDEX_STATEMENT, ""]
    return "\n".join(lines)


def counts_grid(counts: dict) -> tuple[list[str], list[tuple[str, list[int | None]]]]:
    """({dataset: {split: rows}}) -> (splits in train/validation/test order, [(dataset, cells)]);
    a cell is None where the dataset has no such split."""
    present = {split for per_split in counts.values() for split in per_split}
    splits = [s for s in SPLITS if s in present] + sorted(present - set(SPLITS))
    return splits, [(name, [per_split.get(s) for s in splits]) for name, per_split in counts.items()]


def counts_markdown(counts: dict) -> list[str]:
    splits, rows = counts_grid(counts)
    lines = ["| dataset | " + " | ".join(splits) + " |", "|---" * (len(splits) + 1) + "|"]
    for name, cells in rows:
        lines.append(f"| {name} | " + " | ".join("-" if c is None else f"{c:,}" for c in cells) + " |")
    return lines


def filters_sentence(filters: dict | None) -> str:
    """A release's filters as one sentence: "Accepted rows only, from all projects, by all annotators."."""
    if filters is None:
        return "The datasets were cut with different filters; each dataset's card states its own."
    if not filters:
        return "None; every row was included."
    parts = [part for part in (_review_part(filters), _people_part(filters, "projects", "from"),
                               _people_part(filters, "annotators", "by"), _date_part(filters),
                               _generator_part(filters)) if part]
    known = {"accepted_only", "projects", "annotators", "since", "until", "generator"}
    generated = "generator" in filters
    parts += [f"{key.replace('_', ' ')} {_plain(value)}" for key, value in filters.items()
              if key not in known and not generated]
    sentence = ", ".join(parts)
    return sentence[:1].upper() + sentence[1:] + "."


def _review_part(filters: dict) -> str:
    if "accepted_only" not in filters:
        return ""
    return "accepted rows only" if filters["accepted_only"] else "rows whether or not a reviewer accepted them"


def _people_part(filters: dict, key: str, preposition: str) -> str:
    if key not in filters:
        return ""
    chosen = list(filters[key] or ())
    if not chosen:
        return f"{preposition} all {key}"
    noun = key if len(chosen) > 1 else key[:-1]
    return f"{preposition} {noun} {_and(chosen)}"


def _date_part(filters: dict) -> str:
    since, until = filters.get("since"), filters.get("until")
    if since and until:
        return f"made from {since} until before {until}"
    if since:
        return f"made from {since} on"
    return f"made before {until}" if until else ""


def _generator_part(filters: dict) -> str:
    if "generator" not in filters:
        return ""
    settings = [f"{key.replace('_', ' ')} {_plain(value)}" for key, value in filters.items() if key != "generator"]
    return f"generated by {filters['generator']}" + (f" with {_and(settings)}" if settings else "")


def _plain(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return _and([_plain(v) for v in value]) if value else "none"
    if isinstance(value, dict):
        return _and([f"{k} {_plain(v)}" for k, v in value.items()]) if value else "none"
    return "none" if value is None else str(value)


def _and(items: list) -> str:
    items = [str(item) for item in items]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
