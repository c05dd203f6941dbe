"""The claim statement for PostgreSQL, the one piece of raw SQL in the app.

Its table and column names are the models' (`WorkItem`, `Assignment`); a test compares every
name it uses with the models' `_meta`, so a renamed field fails there, not in production.
"""

# Aliases the statement gives its tables, for that test: alias → model name.
ALIASES = {"w": "workitem", "a": "assignment", "live": "assignment"}

# One statement takes the next open item the annotator never had (row-locked, SKIP LOCKED),
# decrements its slots and inserts the lease, unless the annotator already holds a live lease in
# the project; it returns no row in that case and when no item is open.
CLAIM_SQL = """
WITH picked AS (
    SELECT w.id FROM annotation_app_workitem w
    WHERE w.project_id = %(project)s AND w.open_slots > 0
      AND NOT EXISTS (
          SELECT 1 FROM annotation_app_assignment a WHERE a.work_item_id = w.id AND a.annotator_id = %(annotator)s)
      AND NOT EXISTS (
          SELECT 1 FROM annotation_app_assignment live
          WHERE live.annotator_id = %(annotator)s AND live.project_id = %(project)s
            AND live.status = 'active' AND live.expires_at > %(now)s)
    ORDER BY w.id LIMIT 1
    FOR UPDATE OF w SKIP LOCKED
), taken AS (
    UPDATE annotation_app_workitem w SET open_slots = w.open_slots - 1
    FROM picked WHERE w.id = picked.id AND w.open_slots > 0
    RETURNING w.id
)
INSERT INTO annotation_app_assignment
    (work_item_id, project_id, annotator_id, status, claimed_at, expires_at, heartbeat_at, finished_at, active_seconds)
SELECT taken.id, %(project)s, %(annotator)s, 'active', %(now)s, %(expires)s, %(now)s, NULL, 0.0 FROM taken
RETURNING id, work_item_id
"""
