"""A printable public notice 公示 in Chinese, A4, written with reportlab.

The font is reportlab's built-in CID font STSong-Light (Adobe-GB1): the PDF names the font and
every reader has it (Acrobat, pdf.js, poppler map it to a system Song/Ming face), so nothing is
embedded and a fresh machine with no system fonts writes the notice all the same. No QR code.

Everything printed comes from the notice's snapshot (what was published) and its dated
corrections, which follow the text as "更正 / Correction (date): …"; the snapshot's sha256 is
printed at the foot so a paper copy can be matched with the stored record.

Rendering takes 0.17–0.24 s, so it is done once per published version (snapshot + corrections so
far) by the task ``consult.tasks.render_notice_pdf`` and kept as a file; the page serves that file
(``services.notices.stored_pdf``, docs/consult.md).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import segno
from django.utils import timezone
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
# Part of every stored PDF's version key (services.notices.pdf_version): raise it when the layout
# below changes, so that notices are printed anew rather than mixed with files of the old layout.
LAYOUT = 2

#: The printed size of the QR code (its quiet zone included) and of the seal area.
QR_SIZE = 30 * mm
SEAL_SIZE = (62 * mm, 42 * mm)


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
        "seal_label": ParagraphStyle("seal_label", fontName=f, fontSize=10, leading=14, textColor="#777777"),
    }


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _grid(rows: list[list[Any]]) -> Table:
    table = Table(rows, colWidths=[34 * mm, None])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, "#888888"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), "#f0f0f0"),
            ]
        )
    )
    return table


def _pct(share: dict[str, str] | None) -> str:
    if not share:
        return "—"
    return f"{float(share['decimal']) * 100:.1f}%({share['fraction']})"


def _ballot_rows(ballot: dict[str, Any], st: dict[str, ParagraphStyle]) -> list[list[Any]]:
    def row(label: str, value: str) -> list[Any]:
        return [Paragraph(label, st["meta"]), Paragraph(escape(value), st["meta"])]

    rows = [row("表决事项", f"{ballot.get('title', '')}({ballot.get('matter_label', '')})")]
    if ballot.get("scope_label"):
        rows.append(row("表决范围", ballot["scope_label"]))
    if ballot.get("status") == "withdrawn":
        w = ballot.get("withdrawn") or {}
        rows.append(row("表决结果", "表决已撤回,不作任何决定"))
        rows.append(row("撤回理由", str(w.get("reason", ""))))
        return rows
    counts = ballot.get("counts") or {}
    if counts:
        rows.append(
            row(
                "参与表决",
                f"{counts.get('voted')}/{counts.get('owners')} 位业主;同意 {counts.get('yes')},"
                f"反对 {counts.get('no')},弃权 {counts.get('abstain')}",
            )
        )
        rows.append(
            row(
                "参与面积 / 人数",
                f"{_pct(ballot.get('participating_area'))} / {_pct(ballot.get('participating_owners'))}",
            )
        )
        rows.append(
            row("同意面积 / 人数", f"{_pct(ballot.get('approving_area'))} / {_pct(ballot.get('approving_owners'))}")
        )
        rows.append(row("表决结果", "通过" if ballot.get("approved") else "未通过"))
    return rows


def qr_image(url: str, size: float = QR_SIZE) -> Image:
    """``url`` as a QR code (error correction M, a 4-module quiet zone) for the PDF: a PNG of one
    pixel per module, drawn ``size`` wide (reportlab scales it without smoothing)."""
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buf, kind="png", scale=1, border=4)
    buf.seek(0)
    return Image(buf, width=size, height=size)


def _seal_area(issuer: str, on: date, st: dict[str, ParagraphStyle]) -> Table:
    """The bordered box where the issuing body stamps the paper copy: 盖章处, the body, the date."""
    box = Table(
        [
            [Paragraph("盖章处", st["seal_label"])],
            [Paragraph(escape(issuer), st["sign"])],
            [Paragraph(_cn_date(on), st["sign"])],
        ],
        colWidths=[SEAL_SIZE[0]],
        rowHeights=[SEAL_SIZE[1] - 16 * mm, 8 * mm, 8 * mm],
    )
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, "#555555"),
                ("VALIGN", (0, 0), (-1, 0), "TOP"),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4 * mm),
            ]
        )
    )
    return box


def _foot(issuer: str, on: date, url: str, st: dict[str, ParagraphStyle]) -> Table:
    """The QR code with its caption (when the notice has an online page) beside the seal area."""
    left: list[Any] = []
    if url:
        left = [qr_image(url), Paragraph("扫码查看公示全文,可在线提出异议", st["small"])]
    foot = Table([[left, _seal_area(issuer, on, st)]], colWidths=[None, SEAL_SIZE[0]])
    foot.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("RIGHTPADDING", (-1, 0), (-1, 0), 0),
            ]
        )
    )
    return foot


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
    project: str = "",
    ballot: dict[str, Any] | None = None,
    corrections: Sequence[tuple[datetime, str]] = (),
    fingerprint: str = "",
    reconstructed: bool = False,
    public_url: str = "",
) -> bytes:
    """The notice as PDF bytes (every argument from the notice's snapshot and corrections)."""
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
    ]
    if project:
        meta.append([Paragraph("项目", st["meta"]), Paragraph(escape(project), st["meta"])])
    meta += [
        [
            Paragraph("公示期", st["meta"]),
            Paragraph(f"{_cn_date(starts_on)} 至 {_cn_date(ends_on)}(共 {days} 日)", st["meta"]),
        ],
        [Paragraph("发布单位", st["meta"]), Paragraph(escape(issuer), st["meta"])],
    ]
    story += [_grid(meta), Spacer(1, 6 * mm)]
    for para in [p.strip() for p in body.replace("\r\n", "\n").split("\n")]:
        if para:
            story.append(Paragraph(escape(para), st["body"]))
            story.append(Spacer(1, 2 * mm))
    if ballot and ballot.get("status") in ("closed", "withdrawn"):
        story += [Spacer(1, 4 * mm), _grid(_ballot_rows(ballot, st))]
    for at, text in corrections:
        day = timezone.localdate(at) if timezone.is_aware(at) else at.date()
        story += [
            Spacer(1, 4 * mm),
            Paragraph(f"更正 / Correction({_cn_date(day)}):{escape(text)}", st["body"]),
        ]
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
    story += [Spacer(1, 8 * mm), _foot(issuer, starts_on, public_url, st)]
    if fingerprint:
        story += [Spacer(1, 6 * mm), Paragraph(f"公示存档指纹 sha256:{fingerprint}", st["small"])]
    if reconstructed:
        story.append(Paragraph("注:本公示发布于存档功能启用之前,地名等信息按启用时的登记补录。", st["small"]))
    doc.build(story)
    return buf.getvalue()
