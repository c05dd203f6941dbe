"""The claim statement's table and column names are the models' own."""

import json
import re

import pytest
from django.apps import apps
from rest_framework.renderers import JSONRenderer

from annotation_app.api.serializers import AssignmentOutput
from annotation_app.models import Assignment, AuditEvent, CompareItem
from tests.annotation_app.factories import ProjectFactory, WorkItemFactory

from annotation_app.services.claim_sql import ALIASES, CLAIM_SQL


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
