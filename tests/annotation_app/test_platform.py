"""Settings, the production check, management commands and the `pixmo` CLI doors."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from annotation_app.models import Image, Project, User
from annotation_app.services.demo import SAMPLE_PHOTOS

ROOT = Path(__file__).resolve().parents[2]


def run(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a deployment never has it.
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env={**base, **(env or {})},
                          timeout=120, **kwargs)


def test_production_settings_pass_check_deploy():
    result = run(sys.executable, "manage.py", "check", "--deploy", "--settings=annotation_app.settings.production",
                 env={"DJANGO_SECRET_KEY": secrets.token_urlsafe(60)})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_a_missing_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    result = subprocess.run([sys.executable, "manage.py", "check", "--settings=annotation_app.settings.production"],
                            cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


def test_migrations_are_checked_in():
    result = run(sys.executable, "manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_pixmo_help_lists_the_subcommands():
    result = run(sys.executable, "-m", "pixmo_cli", "--help")
    assert result.returncode == 0
    for command in ("import-images", "seed-demo", "expire-leases"):
        assert command in result.stdout


def test_pixmo_import_images_rejects_a_missing_source_with_a_sentence(tmp_path):
    result = run(sys.executable, "-m", "pixmo_cli", "import-images", str(tmp_path / "nowhere"),
                 env={"PIXMO_VAR_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "is neither a folder, a file of URLs, nor an s3:// prefix" in result.stderr


@pytest.mark.django_db
def test_seed_demo_creates_users_projects_and_photos(capsys, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    out = capsys.readouterr().out
    assert "user annotator" in out and "password" in out
    assert {u.role for u in User.objects.all()} == {"annotator", "reviewer", "admin"}
    assert sorted(Project.objects.values_list("kind", flat=True)) == ["ask", "caption", "compare", "points"]
    assert Image.objects.filter(source_name__startswith="skimage:").count() == len(SAMPLE_PHOTOS)
    assert Image.objects.filter(source_name__startswith="generated:").count() == 6
    compare = Project.objects.get(kind="compare")
    assert compare.items.filter(compare__isnull=False).count() == compare.items.count() > 0


@pytest.mark.django_db
def test_import_images_command_reports_refusals_and_exits_1(tmp_path, settings, capsys):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad.jpg").write_bytes(b"nope")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="1 of 1 files were refused") as error:
        call_command("import_images", str(folder))
    assert error.value.returncode == 1
