"""The bare claim: one indexed `UPDATE … RETURNING` that takes a slot and nothing else (no
per-annotator exclusion, no assignment row, no audit) — the baseline of bench/claim.py and
bench/upload.py."""

BARE_CLAIM_SQL = """
UPDATE annotation_app_workitem SET open_slots = open_slots - 1
WHERE id = (
    SELECT id FROM annotation_app_workitem
    WHERE project_id = %s AND open_slots > 0
    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
) RETURNING id
"""
