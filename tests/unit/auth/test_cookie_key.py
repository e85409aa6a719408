"""The dashboard's login cookie key: generated once when embedded, sample or short keys refused."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from tests.conftest import sqlite_test_settings


def test_embedded_run_generates_a_key_once_into_the_data_folder(tmp_path) -> None:
    first = sqlite_test_settings(tmp_path).effective_auth_cookie_key
    assert len(first) >= 32 and first == sqlite_test_settings(tmp_path).effective_auth_cookie_key
    assert (tmp_path / "data" / "auth_cookie_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("key", ["some_key", "short-key"])
def test_sample_or_short_keys_are_refused(tmp_path, key: str) -> None:
    with pytest.raises(ConfigError):
        _ = sqlite_test_settings(tmp_path, auth_cookie_key=key).effective_auth_cookie_key
