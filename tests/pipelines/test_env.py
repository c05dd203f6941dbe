import pytest

from pipelines.env import cache_dir, env_bool, env_float, env_floats, env_int
from pipelines.errors import SettingError


def test_defaults_apply_when_unset_or_blank(monkeypatch):
    monkeypatch.setenv("PIXMO_TEST_X", "  ")
    assert env_int(name="PIXMO_TEST_X", default=3) == 3
    assert env_bool(name="PIXMO_TEST_UNSET", default=True) is True


def test_values_parse(monkeypatch):
    monkeypatch.setenv("PIXMO_TEST_X", "0.0, 0.2,0.4")
    assert env_floats(name="PIXMO_TEST_X", default=()) == (0.0, 0.2, 0.4)
    monkeypatch.setenv("PIXMO_TEST_X", "off")
    assert env_bool(name="PIXMO_TEST_X", default=True) is False


def test_bad_values_name_the_variable_and_limit(monkeypatch):
    monkeypatch.setenv("PIXMO_TEST_X", "-1")
    with pytest.raises(SettingError, match="PIXMO_TEST_X=-1 is below its minimum of 0"):
        env_int(name="PIXMO_TEST_X", default=1, minimum=0)
    monkeypatch.setenv("PIXMO_TEST_X", "fast")
    with pytest.raises(SettingError, match="PIXMO_TEST_X='fast' is not a number"):
        env_float(name="PIXMO_TEST_X", default=1.0)
    with pytest.raises(SettingError, match="not a boolean"):
        env_bool(name="PIXMO_TEST_X", default=True)


def test_cache_dir_follows_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("PIXMO_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
