"""Typed settings helpers (linli/core/env.py): unset → default, malformed → a loud, named error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from linli.core.env import SettingError, env_bool, env_choice, env_float, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]


def test_unset_or_blank_takes_the_default() -> None:
    assert env_int("X", 7, environ={}) == 7
    assert env_int("X", 7, environ={"X": "  "}) == 7
    assert env_float("X", 1.5, environ={"X": ""}) == 1.5
    assert env_bool("X", True, environ={}) is True
    assert env_str("X", "a", environ={}) == "a"
    assert env_list("X", "a, b,,c", environ={}) == ["a", "b", "c"]
    assert env_choice("X", "wgs84", ("wgs84", "gcj02"), environ={}) == "wgs84"


def test_well_formed_values_parse() -> None:
    assert env_int("X", 7, minimum=1, environ={"X": " 15 "}) == 15
    assert env_float("X", 1.0, environ={"X": "0.25"}) == 0.25
    for word in ("1", "true", "YES", "on"):
        assert env_bool("X", False, environ={"X": word}) is True
    for word in ("0", "false", "No", "off"):
        assert env_bool("X", True, environ={"X": word}) is False
    assert env_list("X", "", environ={"X": "10.0.0.0/8, 127.0.0.1"}) == ["10.0.0.0/8", "127.0.0.1"]
    assert env_choice("X", "wgs84", ("wgs84", "gcj02"), environ={"X": "gcj02"}) == "gcj02"


@pytest.mark.parametrize(
    ("call", "value"),
    [
        (lambda e: env_int("LINLI_NOTICE_DAYS", 15, minimum=1, environ=e), "15d"),
        (lambda e: env_int("LINLI_NOTICE_DAYS", 15, minimum=1, environ=e), "0"),
        (lambda e: env_int("LINLI_NOTICE_DAYS", 15, maximum=90, environ=e), "91"),
        (lambda e: env_int("LINLI_NOTICE_DAYS", 15, environ=e), "1.5"),
        (lambda e: env_float("LINLI_LOCK", 15, minimum=0, environ=e), "-1"),
        (lambda e: env_float("LINLI_LOCK", 15, environ=e), "nan"),
        (lambda e: env_float("LINLI_LOCK", 15, environ=e), "inf"),
        (lambda e: env_float("LINLI_LOCK", 15, environ=e), "fifteen"),
        (lambda e: env_bool("LINLI_DEBUG", False, environ=e), "ture"),
        (lambda e: env_choice("LINLI_MAP_TILE_CRS", "wgs84", ("wgs84", "gcj02"), environ=e), "bd09"),
    ],
)
def test_a_malformed_value_is_refused_by_name(call, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingError) as caught:
        call({"LINLI_NOTICE_DAYS": value, "LINLI_LOCK": value, "LINLI_DEBUG": value, "LINLI_MAP_TILE_CRS": value})
    message = str(caught.value)
    assert repr(value) in message and "expected" in message and "环境变量" in message


def test_settings_refuse_a_typo_at_start_up() -> None:
    """A malformed knob stops the process instead of silently becoming the default."""
    env = {**os.environ, "LINLI_DEBUG": "1", "LINLI_NOTICE_DAYS": "15d", "DJANGO_SETTINGS_MODULE": "linli.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "LINLI_NOTICE_DAYS='15d' is not valid" in result.stderr
