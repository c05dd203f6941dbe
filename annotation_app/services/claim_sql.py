"""The claim statement for PostgreSQL, the one piece of raw SQL in the app.

Its hand-written table and column names are the models' (`WorkItem`, `Assignment`, the
project's members, `AuditEvent`); a test compares every name it uses with the models' `_meta`,
so a renamed field fails there, not in production. The columns it returns for the item and its
image are listed from the models themselves.
"""

from annotation_app.models import Image, Project, WorkItem

# Aliases the statement gives its tables, for that test: alias → model name.
ALIASES = {"p": "project", "w": "workitem", "a": "assignment", "live": "assignment", "m": "project_members",
           "lease": "assignment", "i": "image"}

PROJECT_COLUMNS = tuple(field.column for field in Project._meta.concrete_fields)
ITEM_COLUMNS = tuple(field.column for field in WorkItem._meta.concrete_fields)
IMAGE_COLUMNS = tuple(field.column for field in Image._meta.concrete_fields)

# One statement, atomic on its own: in an active project open to the annotator (no members, or
# they are one), take the next open item they never had (row-locked, SKIP LOCKED), unless they
# already hold a live lease there; decrement its slots, insert the lease and its audit row, and
# return the lease with the project, item and image rows the answer is built from. No row:
# nothing was taken (no such project, a closed one, a members-only one they are not in, a live
# lease, no open item — the caller tells which).
CLAIM_SQL = f"""
WITH project AS (
    SELECT {", ".join(f"p.{column}" for column in PROJECT_COLUMNS)} FROM annotation_app_project p
    WHERE p.id = %(project)s AND p.is_active
), picked AS (
    SELECT w.id FROM annotation_app_workitem w
    WHERE w.project_id = %(project)s AND w.open_slots > 0
      AND EXISTS (SELECT 1 FROM project)
      AND NOT EXISTS (
          SELECT 1 FROM annotation_app_assignment a WHERE a.work_item_id = w.id AND a.annotator_id = %(annotator)s)
      AND NOT EXISTS (
          SELECT 1 FROM annotation_app_assignment live
          WHERE live.annotator_id = %(annotator)s AND live.project_id = %(project)s
            AND live.status = 'active' AND live.expires_at > %(now)s)
      AND (NOT EXISTS (SELECT 1 FROM annotation_app_project_members m WHERE m.project_id = %(project)s)
           OR EXISTS (SELECT 1 FROM annotation_app_project_members m
                      WHERE m.project_id = %(project)s AND m.user_id = %(annotator)s))
    ORDER BY w.id LIMIT 1
    FOR UPDATE OF w SKIP LOCKED
), taken AS (
    UPDATE annotation_app_workitem w SET open_slots = w.open_slots - 1
    FROM picked WHERE w.id = picked.id AND w.open_slots > 0
    RETURNING {", ".join(f"w.{column}" for column in ITEM_COLUMNS)}
), lease AS (
    INSERT INTO annotation_app_assignment
        (work_item_id, project_id, annotator_id, status, claimed_at, expires_at, heartbeat_at, finished_at, active_seconds)
    SELECT taken.id, %(project)s, %(annotator)s, 'active', %(now)s, %(expires)s, %(now)s, NULL, 0.0 FROM taken
    RETURNING id, work_item_id
), audit AS (
    INSERT INTO annotation_app_auditevent (actor_id, action, target_type, target_id, data, created_at)
    SELECT %(annotator)s, 'assignment.claim', 'assignment', lease.id::text,
           jsonb_build_object('work_item', lease.work_item_id), %(now)s FROM lease
)
SELECT lease.id, {", ".join(f"project.{column}" for column in PROJECT_COLUMNS)},
       {", ".join(f"taken.{column}" for column in ITEM_COLUMNS)}, {", ".join(f"i.{column}" for column in IMAGE_COLUMNS)}
FROM lease JOIN taken ON taken.id = lease.work_item_id JOIN annotation_app_image i ON i.id = taken.image_id
CROSS JOIN project
"""
