"""The one distance function (core/geo.py) and the one language check (core/lang.py)."""

from __future__ import annotations

import math

from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from linli.core import geo, lang

lat = st.floats(min_value=-80, max_value=80, allow_nan=False)
lon = st.floats(min_value=-179, max_value=179, allow_nan=False)


def test_metres_of_known_distances() -> None:
    assert geo.metres(29.5, 106.5, 29.5, 106.5) == 0
    # one degree of latitude is ~111.2 km on the mean sphere
    assert abs(geo.metres(29.0, 106.5, 30.0, 106.5) - 111_195) < 5
    # Jiulongpo to Yuzhong district centres, about 7 km apart
    assert 5_000 < geo.metres(29.50, 106.51, 29.55, 106.57) < 9_000


@given(lat, lon, lat, lon)
def test_metres_is_symmetric_and_non_negative(a: float, b: float, c: float, d: float) -> None:
    assert geo.metres(a, b, c, d) >= 0
    assert math.isclose(geo.metres(a, b, c, d), geo.metres(c, d, a, b), abs_tol=1e-6)


@given(lat, lon, st.floats(min_value=1, max_value=50_000), st.floats(min_value=0, max_value=2 * math.pi))
def test_box_contains_every_point_within_the_radius(a: float, b: float, radius: float, bearing: float) -> None:
    south, north, west, east = geo.box(a, b, radius)
    # a point at 99 % of the radius in any direction
    d = 0.99 * radius / geo.EARTH_M
    p_lat = math.degrees(
        math.asin(math.sin(math.radians(a)) * math.cos(d) + math.cos(math.radians(a)) * math.sin(d) * math.cos(bearing))
    )
    p_lon = b + math.degrees(
        math.atan2(
            math.sin(bearing) * math.sin(d) * math.cos(math.radians(a)),
            math.cos(d) - math.sin(math.radians(a)) * math.sin(math.radians(p_lat)),
        )
    )
    assert geo.metres(a, b, p_lat, p_lon) <= radius
    assert south <= p_lat <= north and west <= p_lon <= east


def test_language_checks() -> None:
    assert lang.english("en") and lang.english("en-us") and lang.english("EN_gb")
    assert not lang.english("zh-hans") and not lang.english("") and not lang.english(None)
    with translation.override("en"):
        assert lang.is_english() and lang.code() == "en" and lang.pick("中文", "English") == "English"
        assert lang.pick("中文", "") == "中文"  # no English text: the Chinese one
    with translation.override("zh-hans"):
        assert not lang.is_english() and lang.code() == "zh" and lang.pick("中文", "English") == "中文"
    assert lang.pick("中文", "English", "en") == "English"
