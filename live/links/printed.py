"""A site's links as a printed sheet (A4 PDF): each link with what to open on which
machine, until when it works, and a QR code large enough to scan from paper. Everything
arrives already written in the reader's language (`PrintSheet`, built by the links
sheet's view): this module only draws, in a worker process (`workers.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import segno

from live.assets import FONTS

QR_MM = 48  # printed QR side: a 57-module code with its margin, 0.7 mm a module


@dataclass(frozen=True)
class PrintEntry:
    title: str
    detail: str
    where: str
    url: str
    note: str  # why there is no QR code (a revoked link), else ""
    validity: str = ""  # "Valable jusqu'au …"
    warning: str = ""  # it stops working before the event is over


@dataclass(frozen=True)
class PrintSheet:
    """Everything the PDF says, already in the page's language: picklable, for a worker."""

    heading: str
    site: str
    address: str
    event: str
    note: str
    entries: tuple[PrintEntry, ...]


def _qr(pdf: Any, text: str, x: float, y: float, side: float) -> None:
    """A QR code drawn as filled rectangles (one per run of dark modules in a row), so it
    stays sharp at any print size and needs no image library."""
    qr = segno.make(text, error="m")
    rows = qr.matrix
    border = 4
    module = side / (len(rows) + 2 * border)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(
                    x + (border + start) * module,
                    y + (border + r) * module,
                    (c - start) * module,
                    module * 1.02,  # a hair of overlap: no white seams between rows
                    style="F",
                )
            else:
                c += 1


def sheet_pdf(sheet: PrintSheet, fonts: Path = FONTS) -> bytes:
    """A site's links as an A4 PDF: name and address, then each link with what to open on
    which machine, its address and a QR code large enough to scan from paper. CPU-bound:
    the server runs it in a worker process (`workers.py`)."""
    from fpdf import FPDF
    from fpdf.enums import MethodReturnValue, WrapMode

    pdf = FPDF(format="A4")
    pdf.set_title(f"{sheet.heading} — {sheet.site}")
    pdf.set_creator("Relais")
    pdf.set_auto_page_break(False)
    family, mono = "helvetica", "courier"
    texts = [sheet.site, sheet.address, f"{sheet.heading} — {sheet.event}", sheet.note]
    entries = list(sheet.entries)
    if (fonts / "DejaVuSans.ttf").exists():
        family, mono = "DejaVu", "DejaVuMono"
        pdf.add_font(family, "", str(fonts / "DejaVuSans.ttf"))
        pdf.add_font(family, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        pdf.add_font(mono, "", str(fonts / "DejaVuSansMono.ttf"))
    else:  # core fonts: latin-1 only
        texts = [_latin1(s) for s in texts]
        entries = [
            PrintEntry(
                *(
                    _latin1(v)
                    for v in (e.title, e.detail, e.where, e.url, e.note, e.validity, e.warning)
                )
            )
            for e in entries
        ]
    site, address, about, note = texts
    margin, width = 15.0, 210.0 - 30.0
    pdf.set_margins(margin, margin)
    pdf.add_page()
    pdf.set_text_color(0, 70, 140)
    pdf.set_font(family, "B", 18)
    pdf.multi_cell(width, 8, site, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(family, "", 11)
    for line in (address, about):
        if line:
            pdf.multi_cell(width, 6, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    pdf.multi_cell(width, 5, note, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    text_x, text_w = margin + QR_MM + 6, width - QR_MM - 6

    def lines(
        text: str,
        size: float,
        height: float,
        font: str = family,
        style: str = "",
        dry: bool = False,
    ) -> float:
        """Write `text` beside the QR code (or only measure it): the height it takes."""
        pdf.set_font(font, style, size)
        pdf.set_x(text_x)
        wrap = WrapMode.CHAR if font == mono else WrapMode.WORD
        used = cast(
            float,
            pdf.multi_cell(
                text_w,
                height,
                text,
                align="L",
                new_x="LMARGIN",
                new_y="NEXT",
                wrapmode=wrap,
                dry_run=dry,
                output=MethodReturnValue.HEIGHT,
            ),
        )
        if not dry:
            pdf.set_y(pdf.get_y() + 1)
        return used + 1

    def block(e: PrintEntry, dry: bool) -> float:
        """An entry's text: title, place, what to open where, the address."""
        used = lines(e.title, 13, 6, style="B", dry=dry)
        if e.detail:
            used += lines(e.detail, 10, 5, dry=dry)
        used += lines(e.where, 11, 5.5, dry=dry)
        if e.validity:
            used += lines(e.validity, 10, 5, style="B", dry=dry)
        if e.warning:
            pdf.set_text_color(160, 0, 0)
            used += lines(e.warning, 10, 5, style="B", dry=dry)
            pdf.set_text_color(0, 0, 0)
        return used + lines(e.url, 7.5, 3.6, font=mono, dry=dry)

    for e in entries:
        if pdf.get_y() + max(QR_MM, block(e, dry=True)) + 4 > 297 - margin:
            pdf.add_page()  # an entry is never split across pages
        top = pdf.get_y()
        pdf.set_draw_color(180, 180, 180)
        pdf.line(margin, top, margin + width, top)
        if e.note:
            pdf.set_xy(margin, top + 4)
            pdf.set_font(family, "B", 10)
            pdf.multi_cell(QR_MM, 5, e.note, align="L")
        else:
            _qr(pdf, e.url, margin, top + 2, QR_MM)
        pdf.set_y(top + 4)
        block(e, dry=False)
        pdf.set_y(max(pdf.get_y(), top + QR_MM + 4))
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    text = text.replace("—", "-").replace("–", "-").replace("’", "'").replace("«", '"')
    return text.replace("»", '"').encode("latin-1", "replace").decode("latin-1")
