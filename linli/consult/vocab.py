"""The vocabulary of home visits (pure Python, no Django): reason tags with Chinese and English
labels. A visit stores the tag codes; labels are looked up here, so a label can be reworded
without touching the records. A tag once used is never removed (old visits keep it); retire it
by ``active=False`` so the phone page no longer offers it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_REASONS = 10


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str
    # "concern": why a household hesitates or opposes; "motive": why it supports.
    kind: str = "concern"
    active: bool = True

    def label(self, language: str = "zh") -> str:
        """The label in ``language``: the short code ``"en"`` or ``"zh"`` (``linli.core.lang.code()``)."""
        return self.en if language == "en" else self.zh


REASONS: tuple[Reason, ...] = (
    Reason("wants_demolition", "要拆迁补偿", "wants demolition compensation"),
    Reason("cost", "费用", "cost"),
    Reason("low_floor_no_lift", "低层不需要电梯", "low floor, doesn't need a lift"),
    Reason("noise", "施工噪音", "construction noise"),
    Reason("distrust", "不信任", "distrust"),
    Reason("parking", "停车", "parking"),
    Reason("light_privacy", "采光与隐私", "daylight and privacy"),
    Reason("absent_owner", "业主不在本地", "owner lives elsewhere"),
    Reason("safety", "消除安全隐患", "safety hazards removed", kind="motive"),
    Reason("wants_lift", "想要电梯", "wants a lift", kind="motive"),
    Reason("saw_sample_flat", "看过样板间", "saw the sample flat", kind="motive"),
    Reason("other", "其他", "other"),
)

BY_CODE: dict[str, Reason] = {r.code: r for r in REASONS}


def active_reasons() -> list[Reason]:
    return [r for r in REASONS if r.active]


def unknown(codes: Iterable[str]) -> list[str]:
    """The codes that are not tags of the vocabulary (retired tags are still known)."""
    return [c for c in codes if c not in BY_CODE]


def normalise(codes: Iterable[str]) -> list[str]:
    """Tags in vocabulary order, each once (the order a person ticked them carries no meaning)."""
    wanted = {str(c).strip() for c in codes if str(c).strip()}
    return [r.code for r in REASONS if r.code in wanted] + sorted(wanted - set(BY_CODE))


def label(code: str, language: str = "zh") -> str:
    reason = BY_CODE.get(code)
    return reason.label(language) if reason else code


def labels(codes: Iterable[str], language: str = "zh") -> list[str]:
    return [label(c, language) for c in codes]
