"""A printable public notice 公示 in Chinese, A4, written with reportlab.

The font is reportlab's built-in CID font STSong-Light (Adobe-GB1): the PDF names the font and
every reader has it (Acrobat, pdf.js, poppler map it to a system Song/Ming face), so nothing is
embedded and a fresh machine with no system fonts writes the notice all the same. No QR code.
"""

from __future__ import annotations

import io
from datetime import date
from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"


@cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    f = _font()
    return {
        "title": ParagraphStyle("title", fontName=f, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=6 * mm),
        "body": ParagraphStyle("body", fontName=f, fontSize=12, leading=20, firstLineIndent=24, wordWrap="CJK"),
        "meta": ParagraphStyle("meta", fontName=f, fontSize=11, leading=16, wordWrap="CJK"),
        "sign": ParagraphStyle("sign", fontName=f, fontSize=12, leading=20, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", fontName=f, fontSize=9, leading=13, wordWrap="CJK"),
    }


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def notice_pdf(
    *,
    title: str,
    body: str,
    kind_label: str,
    compound: str,
    issuer: str,
    starts_on: date,
    ends_on: date,
    days: int,
    public_url: str = "",
) -> bytes:
    """The notice as PDF bytes."""
    st = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=issuer,
        subject=kind_label,
    )
    story: list = [Paragraph(escape(title), st["title"])]
    meta = [
        [Paragraph("公示类型", st["meta"]), Paragraph(escape(kind_label), st["meta"])],
        [Paragraph("小区", st["meta"]), Paragraph(escape(compound), st["meta"])],
        [
            Paragraph("公示期", st["meta"]),
            Paragraph(f"{_cn_date(starts_on)} 至 {_cn_date(ends_on)}(共 {days} 日)", st["meta"]),
        ],
        [Paragraph("发布单位", st["meta"]), Paragraph(escape(issuer), st["meta"])],
    ]
    table = Table(meta, colWidths=[28 * mm, None])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, "#888888"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), "#f0f0f0"),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm)]
    for para in [p.strip() for p in body.replace("\r\n", "\n").split("\n")]:
        if para:
            story.append(Paragraph(escape(para), st["body"]))
            story.append(Spacer(1, 2 * mm))
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            "如对公示内容有异议,请于公示期内向发布单位书面提出,或在小区公示页面在线提交。"
            "异议先行协商;协商不成的,由居民委员会或街道组织调解;调解不成的,可依法向人民法院提起诉讼。",
            st["small"],
        ),
    ]
    if public_url:
        story.append(Paragraph(f"在线查看:{escape(public_url)}", st["small"]))
    story += [Spacer(1, 10 * mm), Paragraph(escape(issuer), st["sign"]), Paragraph(_cn_date(starts_on), st["sign"])]
    doc.build(story)
    return buf.getvalue()
