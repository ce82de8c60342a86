"""Errors a person can act on: every message in Chinese and English, with the row it concerns.

Pure Python (no Django), so importers and rule modules can raise them too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input. ``row`` is 1-based as a spreadsheet shows it (header = 1)."""

    code: str
    zh: str
    en: str
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v is not None}

    def text(self, language: str = "zh-hans") -> str:
        where_zh = f"第 {self.row} 行" + (f"「{self.column}」" if self.column else "") + ":" if self.row else ""
        where_en = f"Row {self.row}" + (f" ({self.column})" if self.column else "") + ": " if self.row else ""
        if language.startswith("en"):
            return where_en + self.en
        return where_zh + self.zh


@dataclass
class LinliError(Exception):
    """A refused request. Views turn it into HTTP ``status`` with every problem listed."""

    problems: list[Problem] = field(default_factory=list)
    status: int = 400

    @classmethod
    def one(cls, code: str, zh: str, en: str, status: int = 400) -> LinliError:
        return cls([Problem(code, zh, en)], status)

    def __str__(self) -> str:
        return "; ".join(f"{p.text('en')} / {p.text('zh')}" for p in self.problems[:5])

    def as_dict(self) -> dict[str, object]:
        return {"errors": [p.as_dict() for p in self.problems]}
