"""The claim statement's table and column names are the models' own."""

import json
import re

import pytest
from django.apps import apps
from rest_framework.renderers import JSONRenderer

from annotation_app.api.serializers import AssignmentOutput
from annotation_app.models import Assignment, AuditEvent, CompareItem
from annotation_app.services.claim_sql import ALIASES, CLAIM_SQL
from tests.annotation_app.factories import ProjectFactory, WorkItemFactory


def _columns(model_name: str) -> set[str]:
    model = apps.get_model("annotation_app", model_name)
    return {field.column for field in model._meta.concrete_fields}


def _tables() -> dict[str, str]:
    """Every table of the app, the many-to-many ones too: table name → model name."""
    models = apps.get_app_config("annotation_app").get_models(include_auto_created=True)
    return {model._meta.db_table: model._meta.model_name for model in models}


def names_missing_from_models(sql: str) -> list[str]:
    tables = _tables()
    missing = [f"table {table}" for table in set(re.findall(r"\bannotation_app_\w+", sql)) - set(tables)]
    for alias, column in re.findall(r"\b(\w+)\.(\w+)\b", sql):
        if alias in ALIASES and column not in _columns(ALIASES[alias]):
            missing.append(f"{alias}.{column}")
    for table, columns in re.findall(r"INSERT INTO (\w+)\s*\(([^)]*)\)", sql):
        for column in (c.strip() for c in columns.split(",")):
            if table not in tables or column not in _columns(tables[table]):
                missing.append(f"{table}.{column}")
    returned = re.search(r"RETURNING id, (\w+)\s*\)", sql)
    if returned and returned.group(1) not in _columns("assignment"):
        missing.append(f"RETURNING {returned.group(1)}")
    return missing


def test_claim_sql_names_only_what_the_models_have():
    assert names_missing_from_models(CLAIM_SQL) == []


def test_a_drifted_column_is_caught():
    drifted = (CLAIM_SQL.replace("w.open_slots > 0", "w.free_slots > 0", 1).replace("heartbeat_at,", "beat_at,")
               .replace("m.user_id", "m.member_id").replace("target_type,", "target_kind,"))
    assert sorted(names_missing_from_models(drifted)) == [
        "annotation_app_assignment.beat_at", "annotation_app_auditevent.target_kind", "m.member_id", "w.free_slots"]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["caption", "points", "ask", "compare"])
def test_the_claim_answer_is_what_the_assignment_serializer_gives(api_for, annotator, kind):
    item = WorkItemFactory(project=ProjectFactory(kind=kind, labels=["person"] if kind == "points" else []))
    if kind == "compare":
        CompareItem.objects.create(work_item=item, prompt="Which is better?", category="general", model_a="a",
                                   response_a="A cat.", model_b="b", response_b="A dog.")
    response = api_for(annotator).post(f"/api/projects/{item.project_id}/next/")
    assert response.status_code == 200, response.content
    assignment = Assignment.objects.select_related("project", "work_item__image").get(pk=response.json()["id"])
    expected = json.loads(JSONRenderer().render(AssignmentOutput(assignment).data))
    assert response.json() == expected
    assert AuditEvent.objects.filter(action="assignment.claim", target_type="assignment",
                                     target_id=str(assignment.pk), data={"work_item": item.pk}).count() == 1


@pytest.mark.django_db
def test_the_claim_statement_runs_prepared_with_server_side_binding(annotator, other_annotator):
    """PIXMO_DB_PREPARE=1 binds on the server and prepares the statement: every parameter's type
    must be clear to PostgreSQL from where it stands."""
    import psycopg
    from django.db import connection
    from django.utils import timezone

    item = WorkItemFactory(project=ProjectFactory(kind="points", labels=["person"], overlap_k=2))
    now = timezone.now()
    connection.ensure_connection()
    claimed = []
    for user in (annotator, other_annotator, annotator):
        with psycopg.Cursor(connection.connection) as cursor:
            params = {"project": item.project_id, "annotator": user.pk, "now": now, "expires": now}
            cursor.execute(CLAIM_SQL, params, prepare=True)
            claimed.append(cursor.fetchone() is not None)
    assert claimed == [True, True, False]  # the third: annotator already had this item


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, {"conn_max_age": 0, "health_checks": True, "options": {}}),
    ({"DATABASE_CONN_MAX_AGE": "60", "PIXMO_DB_PREPARE": "1"},
     {"conn_max_age": 60, "health_checks": True, "options": {"server_side_binding": True, "prepare_threshold": 2}}),
    ({"PIXMO_DB_PREPARE": "1", "PIXMO_DB_PREPARE_THRESHOLD": "5", "DATABASE_CONN_HEALTH_CHECKS": "0"},
     {"conn_max_age": 0, "health_checks": False, "options": {"server_side_binding": True, "prepare_threshold": 5}}),
])
def test_database_connection_settings_from_the_environment(environ, expected):
    import subprocess
    import sys
    from pathlib import Path

    code = ("import json; from annotation_app.settings.database import DATABASES as D; d = D['default']; "
            "print(json.dumps({'conn_max_age': d['CONN_MAX_AGE'], 'health_checks': d['CONN_HEALTH_CHECKS'], "
            "'options': d.get('OPTIONS', {})}))")
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://u@db.invalid:5432/pixmo", **environ}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    assert json.loads(out) == expected
