"""The sections of an export's PDF about the plan itself and its conversations: modules, welcome
text, contacts, planning, page comments, messages (the forms service's records and the rest are in
`pdf_records`). Each writes its heading, and says so when it has nothing to show."""

from __future__ import annotations

from services.retention.adapters.pdf_layout import JournalPdf, when
from services.retention.domain.export_document import ExportDocument
from services.retention.domain.export_fields import (
    describe_comment,
    describe_contact,
    describe_planning,
    first,
    text_of,
)

MODULE_STATE = {"current": "pågående", "upcoming": "kommande", "completed": "avslutad"}


def modules(pdf: JournalPdf, doc: ExportDocument) -> None:
    pdf.heading("Moduler")
    for module in doc.plan.modules:
        changed = f", sedan {when(module.state_changed_at)}" if module.state_changed_at else ""
        pdf.subheading(f"{module.title} ({MODULE_STATE.get(module.state, module.state)}{changed})")
        for step in module.visible_steps:
            section = text_of(first(step, "section_title"))
            title = text_of(first(step, "title", "id")) or "Steg"
            pdf.line_of(f"{section + ' – ' if section else ''}{title}", indent=4, italic=True)
            body = text_of(first(step, "text", "visible_text", "body"))
            if body:
                pdf.line_of(body, indent=8)
    if not doc.plan.modules:
        pdf.nothing()


def welcome_and_contacts(pdf: JournalPdf, doc: ExportDocument) -> None:
    pdf.heading("Välkomsttext")
    if doc.plan.welcome_text.strip():
        pdf.line_of(doc.plan.welcome_text)
    else:
        pdf.nothing()
    pdf.heading("Kontakter")
    for contact in doc.plan.contacts:
        pdf.line_of(describe_contact(contact))
    if not doc.plan.contacts:
        pdf.nothing()


def planning_and_comments(pdf: JournalPdf, doc: ExportDocument) -> None:
    pdf.heading("Planering")
    for entry in doc.plan.planning:
        pdf.line_of(describe_planning(entry))
    if not doc.plan.planning:
        pdf.nothing()
    pdf.heading("Kommentarer")
    for comment in doc.plan.page_comments:
        pdf.line_of(f"{when(first(comment, 'created_at', 'at'))}  {describe_comment(comment)}")
    if not doc.plan.page_comments:
        pdf.nothing()


def conversations(pdf: JournalPdf, doc: ExportDocument) -> None:
    pdf.heading("Konversationer")
    for conversation in doc.messaging.conversations:
        pdf.subheading(f"{conversation.subject or 'Utan ämne'} (påbörjad {when(conversation.started_at)})")
        if conversation.deleted_at:
            pdf.line_of(f"Dold av personal {when(conversation.deleted_at)}.", indent=4, italic=True)
        for message in conversation.messages:
            if message.author_kind == "patient":
                author = "Patienten"
            else:
                author = " ".join(p for p in ("Personal", message.author_name, message.author_hsa_id or "") if p)
            pdf.line_of(f"{when(message.sent_at)}  {author}", indent=4, italic=True)
            pdf.line_of(message.text, indent=8)
    if not doc.messaging.conversations:
        pdf.nothing()
