"""The seeded vocabulary of job categories (the kiosk's tiles) and skills (issue 14 §1).

Pure data: ``CATEGORIES`` are (code, 中文, English, icon, order); ``SKILLS`` are (code, 中文, English,
category code), codes after the national occupation classification (《中华人民共和国职业分类大典》).
Migration 0002 and ``services.vocabulary.ensure()`` load them; the admin edits them afterwards.
(Being extended: issue 14.)
"""

from __future__ import annotations

CATEGORIES: tuple[tuple[str, str, str, str, int], ...] = (
    ("manufacturing", "制造技工", "Manufacturing and trades", "wrench", 10),
    ("catering", "餐饮", "Catering", "bowl", 20),
    ("housekeeping", "家政保洁", "Housekeeping and cleaning", "broom", 30),
    ("care", "养老护理", "Care for the elderly", "heart", 40),
    ("logistics", "物流配送", "Logistics and delivery", "truck", 50),
)

SKILLS: tuple[tuple[str, str, str, str], ...] = (
    ("6-18-01-01", "车工", "Lathe operator", "manufacturing"),
    ("6-18-01-02", "铣工", "Milling machine operator", "manufacturing"),
    ("6-18-01-08", "数控机床操作调整工", "CNC machine operator", "manufacturing"),
    ("6-18-02-04", "焊工", "Welder", "manufacturing"),
    ("4-03-02-01", "中式烹调师", "Chinese cook", "catering"),
    ("4-03-01-01", "餐厅服务员", "Waiter / waitress", "catering"),
    ("4-10-01-06", "家政服务员", "Domestic helper", "housekeeping"),
    ("4-09-08-01", "保洁员", "Cleaner", "housekeeping"),
    ("4-10-01-05", "养老护理员", "Elderly carer", "care"),
    ("4-02-07-08", "快递员", "Courier", "logistics"),
)
