"""Settings: one typed field per variable, its default stated once, a bad value named at start-up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runtime.settings import REPO_ROOT, ConnectorSettings, FacebookSettings, Settings, SettingsError, XSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CIVICWATCH_") or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)


def test_defaults_without_environment() -> None:
    settings = Settings.from_env()
    assert settings.bootstrap_servers == "127.0.0.1:19092"
    assert settings.data_dir == REPO_ROOT / ".local" / "worker"
    assert settings.agents == ("comments", "decisions", "posts", "analytics")
    assert settings.review_private_roles == ("moderator", "admin")
    assert settings.policy_path is None and not settings.review_cookie_secure
    assert XSettings.from_env().accounts == () and FacebookSettings.from_env().api_version == "25.0"
    assert ConnectorSettings.from_env().metrics_port == 0


@pytest.mark.parametrize(
    ("variable", "value", "read"),
    [
        ("CIVICWATCH_KAFKA_PORT", "19192", lambda: Settings.from_env().bootstrap_servers == "127.0.0.1:19192"),
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", lambda: Settings.from_env().bootstrap_servers == "kafka:9092"),
        ("CIVICWATCH_POLICY", "/etc/city.yaml", lambda: str(Settings.from_env().policy_path) == "/etc/city.yaml"),
        ("CIVICWATCH_POLICY", "", lambda: Settings.from_env().policy_path is None),  # empty is unset
        ("CIVICWATCH_AGENTS", " posts, comments", lambda: Settings.from_env().agents == ("comments", "posts")),
        ("CIVICWATCH_REVIEW_PRIVATE_ROLES", "admin,", lambda: Settings.from_env().review_private_roles == ("admin",)),
        ("CIVICWATCH_REVIEW_COOKIE_SECURE", "yes", lambda: Settings.from_env().review_cookie_secure),
        ("CIVICWATCH_BATCH_TIMEOUT", "0.2", lambda: Settings.from_env().batch_timeout == 0.2),
        (
            "CIVICWATCH_X_ACCOUNTS",
            "@CityOfWindsor, other",
            lambda: XSettings.from_env().accounts == ("CityOfWindsor", "other"),
        ),
        ("CIVICWATCH_X_MAX_REQUESTS", "7", lambda: XSettings.from_env().max_requests_per_window == 7),
        ("CIVICWATCH_FACEBOOK_API_VERSION", "v21.0", lambda: FacebookSettings.from_env().api_version == "21.0"),
        ("CIVICWATCH_BACKOFF_CAP", "60", lambda: ConnectorSettings.from_env().backoff_cap == 60.0),
    ],
)
def test_each_variable_reaches_its_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, read: Callable[[], bool]
) -> None:
    monkeypatch.setenv(variable, value)
    assert read()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CIVICWATCH_PARTITIONS", "four", "CIVICWATCH_PARTITIONS: Input should be a valid integer"),
        ("CIVICWATCH_AGENTS", "decisions", "CIVICWATCH_AGENTS: decisions and posts run with comments"),
        (
            "CIVICWATCH_REVIEW_COOKIE_SECURE",
            "perhaps",
            "CIVICWATCH_REVIEW_COOKIE_SECURE: Input should be a valid boolean",
        ),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env()


def test_a_misspelt_setting_in_code_is_refused() -> None:
    with pytest.raises(ValueError, match="review_prot"):
        Settings(review_prot=1)  # type: ignore[call-arg]
