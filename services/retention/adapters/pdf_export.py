"""An export as a PDF for the journal (fpdf2): the plan's header (program, unit, patient, period, end
reason), then one section per kind of record (see `pdf_sections`)."""

from __future__ import annotations

from collections.abc import Callable

from fpdf.enums import XPos, YPos

from services.retention.adapters import pdf_records, pdf_sections
from services.retention.adapters.pdf_layout import FONT, JournalPdf, pdf_text, when
from services.retention.domain.export_document import ExportDocument
from services.retention.domain.export_fields import first, text_of

SECTIONS: list[Callable[[JournalPdf, ExportDocument], None]] = [
    pdf_sections.modules,
    pdf_sections.welcome_and_contacts,
    pdf_sections.planning_and_comments,
    pdf_sections.conversations,
    pdf_records.form_answers,
    pdf_records.activities,
    pdf_records.flags_and_batteries,
    pdf_records.notifications,
    pdf_records.handovers,
    pdf_records.audit_summary,
]


def render_pdf(doc: ExportDocument) -> bytes:
    """The whole export as a PDF document (bytes starting with `%PDF`)."""
    pdf = JournalPdf(doc.export_id)
    pdf.set_title(pdf_text(f"Vårdplan {doc.plan.program_title or doc.plan.program_id} – export för journalen"))
    pdf.set_creator("careplan retention")
    pdf.set_creation_date(doc.completed_at)
    pdf.add_page()
    _header(pdf, doc)
    for section in SECTIONS:
        section(pdf, doc)
    return bytes(pdf.output())


def _header(pdf: JournalPdf, doc: ExportDocument) -> None:
    plan = doc.plan
    pdf.set_font(FONT, style="B", size=16)
    pdf.multi_cell(0, 9, pdf_text("Vårdplan – export för journalen"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    pdf.ln(2)
    pdf.field("Program", f"{plan.program_title or plan.program_id} (version {plan.program_version})")
    pdf.field("Vårdenhet", plan.unit_id or doc.unit_id)
    pdf.field("Patient", plan.patient_name or "–")
    pdf.field("Personnummer", plan.patient_personnummer)
    pdf.field("Period", f"{when(plan.started_at)} – {when(plan.ended_at)}")
    pdf.field("Avslutsorsak", plan.end_reason or "–")
    ended_by = plan.ended_by or {}
    by = "systemet" if ended_by.get("kind") == "system" else text_of(first(ended_by, "name", "hsa_id"))
    if by:
        pdf.field("Avslutad av", by)
    if plan.responsible_hsa_id:
        pdf.field("Ansvarig", plan.responsible_hsa_id)
    pdf.field("Export", f"{doc.export_id}, sammanställd {when(doc.completed_at)}")
