"""The page layout of an export's PDF (fpdf2): A4, a footer with the export id and page numbers, and
text helpers every section uses.

The PDF core fonts (Helvetica) cover Windows-1252, which has every Swedish letter (å ä ö Å Ä Ö é)
and the usual typography (– — “ ” …); any other character (an emoji, say) is shown as "?" rather
than failing the export. Times are shown in Swedish time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from services.retention.domain.export_fields import iso_time

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ENCODING = "windows-1252"
FONT = "helvetica"
_CONTROL = {c: " " for c in range(32) if c != 10} | {127: " "}


def pdf_text(text: Any) -> str:
    """Text the core fonts can show: control characters as spaces, anything outside Windows-1252 as "?"."""
    clean = str(text).translate(_CONTROL)
    return clean.encode(ENCODING, "replace").decode(ENCODING)


def when(moment: datetime | str | None) -> str:
    """A time (or ISO text of one) as Swedish time, to the minute ("–" when there is none)."""
    text = iso_time(moment)
    if text is None:
        return "–"
    return datetime.fromisoformat(text).astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


class JournalPdf(FPDF):
    """A4 pages with the export's id and the page number in the footer, and a few text helpers."""

    def __init__(self, export_id: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self.export_id = export_id
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 6, pdf_text(f"Export {self.export_id} – sida {self.page_no()}/{{nb}}"), align="C")

    def heading(self, text: str) -> None:
        """A section's heading (a new page if too little room is left for it and a line)."""
        if self.will_page_break(20):
            self.add_page()
        self.ln(3)
        self.set_font(FONT, style="B", size=13)
        self.multi_cell(0, 7, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=10)

    def subheading(self, text: str) -> None:
        self.set_font(FONT, style="B", size=10)
        self.multi_cell(0, 5.5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=10)

    def line_of(self, text: str, *, indent: float = 0, italic: bool = False) -> None:
        """A paragraph, wrapped to the page (a word longer than a line is broken rather than overflowing)."""
        self.set_x(self.l_margin + indent)
        self.set_font(FONT, style="I" if italic else "", size=10)
        self.multi_cell(0, 5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=10)

    def field(self, label: str, value: str) -> None:
        """`label: value` on one wrapped line, the label in bold."""
        self.set_font(FONT, style="B", size=10)
        self.cell(42, 5, pdf_text(label))
        self.set_font(FONT, size=10)
        self.multi_cell(0, 5, pdf_text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def nothing(self) -> None:
        self.line_of("Inget att visa.", italic=True)
