"""The claim statement's table and column names are the models' own."""

import re

from django.apps import apps

from annotation_app.services.claim_sql import ALIASES, CLAIM_SQL


def _columns(model_name: str) -> set[str]:
    model = apps.get_model("annotation_app", model_name)
    return {field.column for field in model._meta.concrete_fields}


def _tables() -> dict[str, str]:
    models = {name: apps.get_model("annotation_app", name) for name in set(ALIASES.values())}
    return {model._meta.db_table: name for name, model in models.items()}


def names_missing_from_models(sql: str) -> list[str]:
    tables = _tables()
    missing = [f"table {table}" for table in set(re.findall(r"\bannotation_app_\w+", sql)) - set(tables)]
    for alias, column in re.findall(r"\b(\w+)\.(\w+)\b", sql):
        if alias in ALIASES and column not in _columns(ALIASES[alias]):
            missing.append(f"{alias}.{column}")
    insert = re.search(r"INSERT INTO (\w+)\s*\(([^)]*)\)", sql)
    for column in (c.strip() for c in insert.group(2).split(",")):
        if column not in _columns(tables.get(insert.group(1), "assignment")):
            missing.append(f"{insert.group(1)}.{column}")
    returned = re.search(r"RETURNING id, (\w+)\s*$", sql.strip())
    if returned and returned.group(1) not in _columns("assignment"):
        missing.append(f"RETURNING {returned.group(1)}")
    return missing


def test_claim_sql_names_only_what_the_models_have():
    assert names_missing_from_models(CLAIM_SQL) == []


def test_a_drifted_column_is_caught():
    drifted = CLAIM_SQL.replace("w.open_slots > 0", "w.free_slots > 0", 1).replace("heartbeat_at,", "beat_at,")
    assert sorted(names_missing_from_models(drifted)) == ["annotation_app_assignment.beat_at", "w.free_slots"]
