"""Settings from the environment, typed, and refused loudly when malformed (pure Python).

Every knob of ``linli/settings.py`` is read through these helpers. An unset or empty variable
takes the default; a set one must parse, or the process stops at start-up with a message that
names the variable, the value and what is expected — a typo in a unit file must never silently
become the default (``LINLI_NOTICE_DAYS=15d`` or ``LINLI_DEBUG=ture`` stop the server instead).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingError(ValueError):
    """A malformed environment variable (``settings.py`` turns it into ImproperlyConfigured)."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(
            f"{name}={value!r} is not valid: expected {expected}. 环境变量 {name} 的值无效,应为 {expected}。"
        )
        self.name = name


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise SettingError(name, value, "one of 1/0, true/false, yes/no, on/off")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingError(name, value, _range("a whole number", minimum, maximum)) from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise SettingError(name, value, _range("a whole number", minimum, maximum))
    return number


def env_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> float:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingError(name, value, _range("a number", minimum, maximum)) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise SettingError(name, value, _range("a finite number", minimum, maximum))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise SettingError(name, value, _range("a number", minimum, maximum))
    return number


def env_list(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blanks between commas are dropped."""
    value = _raw(name, environ)
    return [item.strip() for item in (default if value is None else value).split(",") if item.strip()]


def env_choice(name: str, default: str, choices: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    if value not in choices:
        raise SettingError(name, value, "one of " + ", ".join(choices))
    return value


def _range(what: str, minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{what} from {minimum} to {maximum}"
    if minimum is not None:
        return f"{what} ≥ {minimum}"
    if maximum is not None:
        return f"{what} ≤ {maximum}"
    return what
