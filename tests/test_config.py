"""Settings come from the environment, with the documented defaults."""

from app import config


def test_environment_overrides_with_types(tmp_path, monkeypatch):
    monkeypatch.setenv("WARNING_RATIO", "0.75")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    monkeypatch.setenv("TIMEZONE", "Asia/Urumqi")
    loaded = config.load(tmp_path, None)
    assert loaded["WARNING_RATIO"] == 0.75 and loaded["SESSION_COOKIE_SECURE"] is False
    assert loaded["TIMEZONE"] == "Asia/Urumqi"
    assert loaded["DATABASE_URL"] == f"sqlite:///{tmp_path / 'incidents.sqlite3'}"
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    assert config.load(tmp_path, None)["SESSION_COOKIE_SECURE"] is True


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.load(tmp_path, None)["SECRET_KEY"]
    assert len(first) == 64 and config.load(tmp_path, None)["SECRET_KEY"] == first
