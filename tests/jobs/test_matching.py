"""就近帮 matching (linli/jobs/matching.py, issue 14 §3): the score's worked examples, and the fast
index against a second, naive implementation written here — every item scored with ``score()``,
filtered by ``metres() <= radius`` and score > 0, sorted by (-score, id), the first k — for random
items, queries, k and radii, across random sequences of add/remove. Plain pytest, no database."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.geo import metres
from linli.jobs.matching import Match, build, score, talent

CENTRE = (29.53, 106.50)


# --- the naive implementation ------------------------------------------------------------------


def naive_top(seeker: Mapping[str, Any], items: Sequence[Mapping[str, Any]], k: int, radius_m: float) -> list[Match]:
    out = []
    for item in items:
        d = metres(seeker["lat"], seeker["lon"], item["lat"], item["lon"])
        if d <= radius_m:
            s = score(seeker, item, d)
            if s > 0:
                out.append(Match(item["id"], s, d))
    out.sort(key=lambda m: (-m.score, m.posting_id))
    return out[:k] if k > 0 else []


def naive_talent(
    posting: Mapping[str, Any], seekers: Sequence[Mapping[str, Any]], k: int, radius_m: float
) -> list[Match]:
    out = []
    for seeker in seekers:
        d = metres(seeker["lat"], seeker["lon"], posting["lat"], posting["lon"])
        if d <= radius_m:
            s = score(seeker, posting, d)
            if s > 0:
                out.append(Match(seeker["id"], s, d))
    out.sort(key=lambda m: (-m.score, m.posting_id))
    return out[:k] if k > 0 else []


def person(i: Any, lat: float = CENTRE[0], lon: float = CENTRE[1], **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": i, "lat": lat, "lon": lon, "skills": {"weld"}, "wage_min": 5000}
    base.update({"wage_max": 8000, "hours": 40})
    base.update(kw)
    return base


# --- score(): worked examples ------------------------------------------------------------------


def test_no_shared_skill_is_no_match() -> None:
    assert score(person(1, skills={"weld"}), person(2, skills={"lathe"}), 0.0) == 0.0
    assert score(person(1, skills=set()), person(2), 0.0) == 0.0
    assert score(person(1), person(2, skills=set()), 0.0) == 0.0


def test_a_perfect_match_next_door_scores_one() -> None:
    assert score(person(1), person(2), 0.0) == 1.0


def test_closer_beats_farther_all_else_equal() -> None:
    s, p = person(1), person(2)
    near, far = score(s, p, 500.0), score(s, p, 5000.0)
    assert 0 < far < near < 1
    # near = 1 / (1 + d / 2000): half at 2 km
    assert score(s, p, 2000.0) == pytest.approx(0.4 + 0.3 * 0.5 + 0.15 + 0.15)


def test_share_of_the_postings_skills() -> None:
    seeker = person(1, skills={"weld", "lathe"})
    assert score(seeker, person(2, skills={"weld"}), 0.0) == 1.0
    two_of_four = score(seeker, person(3, skills={"weld", "lathe", "cnc", "crane"}), 0.0)
    assert two_of_four == pytest.approx(0.4 * 0.5 + 0.6)


def test_wage_below_what_the_seeker_accepts() -> None:
    seeker = person(1, wage_min=5000)
    full = score(seeker, person(2, wage_max=5000), 0.0)
    less = score(seeker, person(3, wage_max=4500), 0.0)  # halfway to the 80 % floor
    assert full == 1.0
    assert less == pytest.approx(1.0 - 0.15 * 0.5)
    assert score(seeker, person(4, wage_max=4000), 0.0) > 0  # at the floor: still a match, wage part 0
    assert score(seeker, person(5, wage_max=3999), 0.0) == 0.0  # below the floor: no match
    assert score(seeker, person(6, wage_min=9000, wage_max=12000), 0.0) == 1.0  # paying more is fine


def test_hours_apart() -> None:
    seeker = person(1, hours=40)
    assert score(seeker, person(2, hours=44), 0.0) == 1.0
    assert score(seeker, person(3, hours=50), 0.0) == pytest.approx(1.0 - 0.15 * 0.5)
    assert score(seeker, person(4, hours=56), 0.0) > 0
    assert score(seeker, person(5, hours=57), 0.0) == 0.0
    assert score(seeker, person(6, hours=23.5), 0.0) == 0.0


def test_missing_wage_or_hours_is_neutral() -> None:
    seeker = person(1)
    assert score(seeker, person(2, wage_max=None), 0.0) == pytest.approx(1.0 - 0.15 * 0.5)
    assert score(person(3, hours=None), person(4), 0.0) == pytest.approx(1.0 - 0.15 * 0.5)
    no_numbers = {"id": 5, "lat": 0, "lon": 0, "skills": ["weld"]}
    assert score(no_numbers, no_numbers, 0.0) == pytest.approx(0.4 + 0.3 + 0.15 * 0.5 * 2)
    assert score(seeker, person(6, wage_max=math.nan), 0.0) == score(seeker, person(7, wage_max=None), 0.0)


def test_score_is_in_zero_one_and_rejects_bad_distances() -> None:
    rng = random.Random(7)
    for _ in range(500):
        a = person(1, skills=set(rng.sample(range(6), rng.randint(1, 3))), wage_min=rng.randint(0, 9000))
        b = person(2, skills=set(rng.sample(range(6), rng.randint(1, 3))), wage_max=rng.randint(0, 9000))
        s = score(a, b, rng.uniform(0, 50_000))
        assert 0.0 <= s <= 1.0
        if not a["skills"] & b["skills"]:
            assert s == 0.0
    for bad in (-1.0, math.nan):
        with pytest.raises(ValueError):
            score(person(1), person(2), bad)
    with pytest.raises(TypeError):
        score(person(1, skills="weld"), person(2), 0.0)


# --- the index: fixed cases --------------------------------------------------------------------


def test_ties_are_broken_by_id_and_positions_may_repeat() -> None:
    postings = [person(i) for i in (5, 3, 9, 1, 7)]  # identical: same place, same score
    index = build(postings)
    got = index.top(person(0), k=3)
    assert [m.posting_id for m in got] == [1, 3, 5]
    assert got == naive_top(person(0), postings, 3, 10_000)
    assert got[0].id == got[0].posting_id == 1
    assert got[0].distance_m == 0.0
    assert len({m.score for m in got}) == 1


def test_string_ids_order_normally() -> None:
    postings = [person(s) for s in ("b", "a", "c")]
    assert [m.id for m in build(postings).top(person("x"), k=5)] == ["a", "b", "c"]


def test_empty_index_large_k_and_odd_arguments() -> None:
    assert build([]).top(person(0)) == []
    postings = [person(i, lat=CENTRE[0] + i * 0.001) for i in range(4)]
    index = build(postings)
    assert len(index.top(person(0), k=1000)) == 4
    assert index.top(person(0), k=0) == []
    assert index.top(person(0), k=-3) == []
    assert index.top(person(0), radius_m=-1) == []
    assert index.top(person(0), radius_m=math.nan) == []
    assert index.top(person(0), radius_m=0) == naive_top(person(0), postings, 10, 0) != []
    assert index.top(person(0), radius_m=math.inf) == naive_top(person(0), postings, 10, math.inf)
    assert index.top(person(0, skills=set())) == []
    assert index.top(person(0, skills={"unknown"})) == []
    with pytest.raises(TypeError):
        index.top(person(0), k=2.5)  # type: ignore[arg-type]


def test_talent_returns_seekers_ids() -> None:
    seekers = [person(i, lat=CENTRE[0] + i * 0.002, wage_min=4000 + 500 * i) for i in range(10)]
    posting = person("p", wage_max=6000, skills={"weld", "crane"})
    got = talent(posting, build(seekers), k=4, radius_m=3000)
    assert got == naive_talent(posting, seekers, 4, 3000)
    assert [m.id for m in got] and all(isinstance(m.id, int) for m in got)


def test_add_replaces_and_remove_is_a_no_op_for_unknown_ids() -> None:
    index = build([person(1), person(2)])
    index.add(person(1, skills={"lathe"}))
    assert [m.id for m in index.top(person(0))] == [2]
    assert index.remove(2) is True
    assert index.remove(2) is False
    assert index.remove("nobody") is False
    assert index.top(person(0)) == []
    assert len(index) == 1 and 1 in index and index.get(1)["skills"] == {"lathe"}  # type: ignore[index]


def test_build_keeps_the_last_item_of_an_id() -> None:
    index = build([person(1, skills={"lathe"}), person(1)])
    assert len(index) == 1
    assert [m.id for m in index.top(person(0))] == [1]


def test_bad_items_are_refused_and_change_nothing() -> None:
    index = build([person(1)])
    before = index.top(person(0))
    for bad in (
        {"lat": 1, "lon": 1, "skills": {"weld"}},  # no id
        person(2, lat=91.0),
        person(3, lat=math.nan),
        person(4, lon=math.inf),
        person(5, lat="north"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError):
            index.add(bad)
    with pytest.raises(TypeError):
        index.add(person(6, skills="weld"))
    with pytest.raises(ValueError):
        build([person(1), person(2, lat=-95)])
    with pytest.raises(ValueError):
        index.top(person(0, lat=100))
    assert index.top(person(0)) == before and len(index) == 1


def test_the_antimeridian_and_the_poles() -> None:
    postings = [
        person(1, lat=10.0, lon=179.999),
        person(2, lat=10.0, lon=-179.999),
        person(3, lat=89.999, lon=0.0),
        person(4, lat=89.999, lon=180.0),
        person(5, lat=-89.9995, lon=-90.0),
        person(6, lat=-89.9995, lon=90.0),
    ]
    index = build(postings)
    for q in (person(0, lat=10.0, lon=-180.0), person(0, lat=90.0, lon=45.0), person(0, lat=-90.0, lon=0.0)):
        got = index.top(q, k=10, radius_m=1000)
        assert got == naive_top(q, postings, 10, 1000) != []
    index.add(person(7, lat=10.0, lon=540.0 - 0.0005))  # 179.9995 written another way
    q = person(0, lat=10.0, lon=-179.9995)
    got = index.top(q, radius_m=200)
    assert [m.id for m in got] == [2, 7, 1]  # 55 m, 110 m and 164 m away, across the antimeridian
    assert got == naive_top(q, [*postings, person(7, lat=10.0, lon=540.0 - 0.0005)], 10, 200)


def test_early_stop_on_a_dense_city_agrees_with_the_naive_scan() -> None:
    """A seeded city of 6,000 postings: the pruning paths (size classes dropped, early stop, large
    radius, few matches) against the naive scan, both directions."""
    rng = random.Random(14)
    vocab = [f"{i:03d}" for i in range(30)]
    weights = [1 / (i + 1) for i in range(30)]

    def one(i: int, seeker: bool = False) -> dict[str, Any]:
        wmin = rng.choice([None] + [rng.randrange(3000, 15000, 100)] * 9)
        return {
            "id": i,
            "lat": CENTRE[0] + rng.gauss(0, 0.05),
            "lon": CENTRE[1] + rng.gauss(0, 0.05),
            "skills": set(rng.choices(vocab, weights, k=rng.randint(1 if seeker else 0, 5))),
            "wage_min": wmin,
            "wage_max": None if wmin is None else wmin + rng.randrange(0, 6000, 100),
            "hours": rng.choice([None, 20, 30, 40, 40, 44, 48, 60]),
        }

    postings = [one(i) for i in range(6000)]
    seekers = [one(i, seeker=True) for i in range(6000, 6300)]
    index, seekers_index = build(postings), build(seekers)
    for n, q in enumerate(seekers[:60]):
        k = rng.choice([1, 3, 10, 10, 50])
        radius = rng.choice([300, 2000, 10_000, 10_000, 50_000])
        assert index.top(q, k, radius) == naive_top(q, postings, k, radius), n
    for n, p in enumerate(postings[:40]):
        k = rng.choice([1, 10, 30])
        radius = rng.choice([1000, 10_000])
        assert talent(p, seekers_index, k, radius) == naive_talent(p, seekers, k, radius), n
    many = index.top_many(seekers[:20], 10, 10_000)
    assert many == [naive_top(q, postings, 10, 10_000) for q in seekers[:20]]


# --- property tests ----------------------------------------------------------------------------

SKILLS = st.sets(st.integers(0, 5), max_size=4)
NUMBER = st.one_of(st.none(), st.integers(0, 20_000), st.floats(0, 20_000, allow_nan=False))
HOURS = st.one_of(st.none(), st.integers(10, 70), st.just(math.nan))
#: a few shared positions (duplicates), points around the city, and points anywhere on earth
POINT = st.one_of(
    st.sampled_from([CENTRE, (CENTRE[0] + 0.01, CENTRE[1]), (29.6, 106.6)]),
    st.tuples(st.floats(29.4, 29.7), st.floats(106.3, 106.7)),
    st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
)


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    lat, lon = draw(POINT)
    return {
        "id": draw(st.integers(0, 40)),
        "lat": lat,
        "lon": lon,
        "skills": draw(SKILLS),
        "wage_min": draw(NUMBER),
        "wage_max": draw(NUMBER),
        "hours": draw(HOURS),
    }


K = st.integers(-1, 25)
RADIUS = st.one_of(st.sampled_from([0.0, 500.0, 3_000.0, 10_000.0, 30_000.0, math.inf]), st.floats(0, 2e7))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(items(), max_size=60), st.lists(items(), min_size=1, max_size=4), K, RADIUS)
def test_top_and_talent_equal_the_naive_scan(
    pool: list[dict[str, Any]], queries: list[dict[str, Any]], k: int, radius: float
) -> None:
    latest = list({item["id"]: item for item in pool}.values())
    index = build(pool)
    for q in queries:
        assert index.top(q, k, radius) == naive_top(q, latest, k, radius)
        assert talent(q, index, k, radius) == naive_talent(q, latest, k, radius)


OPS = st.lists(
    st.one_of(st.tuples(st.just("add"), items()), st.tuples(st.just("remove"), st.integers(0, 40))), max_size=40
)


@FAST
@given(st.lists(items(), max_size=30), OPS, st.lists(items(), min_size=1, max_size=3), K, RADIUS)
def test_add_and_remove_keep_the_index_equal_to_the_naive_scan(
    pool: list[dict[str, Any]], ops: list[tuple[str, Any]], queries: list[dict[str, Any]], k: int, radius: float
) -> None:
    index = build(pool)
    model = {item["id"]: item for item in pool}
    for n, (op, arg) in enumerate(ops):
        if op == "add":
            index.add(arg)
            model[arg["id"]] = arg
        else:
            assert index.remove(arg) == (arg in model)
            model.pop(arg, None)
        if n % 8 == 7 or n == len(ops) - 1:
            for q in queries:
                assert index.top(q, k, radius) == naive_top(q, list(model.values()), k, radius)
                assert talent(q, index, k, radius) == naive_talent(q, list(model.values()), k, radius)
    assert len(index) == len(model)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_ties_and_many_equal_scores(seed: int) -> None:
    """Many items with equal scores at equal distances (a grid of repeated positions, same numbers):
    the cut at k falls inside a tie, resolved by id."""
    rng = random.Random(seed)
    points = [(CENTRE[0] + 0.003 * a, CENTRE[1] + 0.003 * b) for a in range(3) for b in range(3)]
    ids = rng.sample(range(1000), 200)
    pool = [
        person(i, lat=p[0], lon=p[1], skills=rng.choice([{"weld"}, {"weld", "lathe"}]), hours=rng.choice([40, 50]))
        for i, p in zip(ids, rng.choices(points, k=200), strict=True)
    ]
    index = build(pool)
    q = person(-1, lat=points[4][0], lon=points[4][1], skills={"weld", "lathe"})
    for k in (1, 7, 23, 64, 300):
        assert index.top(q, k, 400) == naive_top(q, pool, k, 400)
