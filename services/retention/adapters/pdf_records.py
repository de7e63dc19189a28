"""The sections of an export's PDF about the plan's records: form answers and results (with the rule
version), activity plans and registrations, flags and measurement batteries, notifications (what
kind, which channel, when; never an address), handovers and the audit summary."""

from __future__ import annotations

from typing import Any

from services.retention.adapters.pdf_layout import JournalPdf, when
from services.retention.domain.export_document import ExportDocument
from services.retention.domain.export_fields import TIME_KEYS, first, iso_time, summary, text_of, title_of
from shared.contracts.export import FormResponsePart


def form_answers(pdf: JournalPdf, doc: ExportDocument) -> None:
    pdf.heading("Formulärsvar och resultat")
    for response in doc.forms.responses:
        version = f", version {response.form_version}" if response.form_version is not None else ""
        title = response.form_title or response.form_id
        pdf.subheading(f"{title}{version}, inskickat {when(response.submitted_at)}")
        for n, answer in enumerate(response.answers, start=1):
            question = text_of(first(answer, "text", "question")) or text_of(first(answer, "question_id")) or f"{n}"
            given = text_of(first(answer, "answer_text")) or text_of(first(answer, "answer", "value"))
            pdf.line_of(f"{question}: {given or '(inget svar)'}", indent=4)
        for result in response.results or ([response.result] if response.result else []):
            _result(pdf, response, result)
    if not doc.forms.responses:
        pdf.nothing()


def _result(pdf: JournalPdf, response: FormResponsePart, result: dict[str, Any]) -> None:
    title = text_of(first(result, "title")) or "Resultat"
    value = text_of(first(result, "value", "score")) or text_of(first(result, "reason")) or "inget resultat"
    label = text_of(first(result, "label", "interpretation"))
    flagged = ", flaggat" if result.get("flag") else ""
    rule_version = text_of(first(result, "rule_version")) or "okänd"
    pdf.line_of(f"{title}: {value}{f' ({label}{flagged})' if label or flagged else ''}", indent=4)
    pdf.line_of(f"Regelversion {rule_version}", indent=8, italic=True)
    explanation = text_of(first(result, "explanation"))
    if explanation:
        pdf.line_of(explanation, indent=8)
    if response.rescored_at:
        pdf.line_of(f"Omräknat {when(response.rescored_at)}", indent=8, italic=True)


def activities(pdf: JournalPdf, doc: ExportDocument) -> None:
    forms = doc.forms
    pdf.heading("Aktivitetsplaner")
    titles: dict[str, str] = {}
    units: dict[str, tuple[str, str]] = {}
    for plan in forms.activity_plans:
        titles[text_of(plan.get("id"))] = title_of(plan, "Aktivitetsplan")
        measured = [m for m in plan.get("measurements") or [] if isinstance(m, dict)]
        units |= {text_of(m.get("id")): (text_of(m.get("title")), text_of(m.get("unit"))) for m in measured}
        start = text_of(first(plan, "start_date"))
        pdf.subheading(f"{title_of(plan, 'Aktivitetsplan')}{f', från {start}' if start else ''}")
        names = ", ".join(text_of(m.get("title")) or text_of(m.get("id")) for m in measured)
        for line in (text_of(first(plan, "instructions")), f"Mätvärden: {names}" if names else ""):
            if line:
                pdf.line_of(line, indent=4)
    if not forms.activity_plans:
        pdf.nothing()
    pdf.heading("Registreringar")
    for registration in forms.registrations:
        pdf.line_of(_registration(registration, titles, units))
    if not forms.registrations:
        pdf.nothing()


def _registration(item: dict[str, Any], titles: dict[str, str], units: dict[str, tuple[str, str]]) -> str:
    title = titles.get(text_of(item.get("activity_plan_id"))) or title_of(item, "Registrering")
    values = item.get("values")
    values = values if isinstance(values, dict) else {}
    shown = [
        f"{units.get(k, (k, ''))[0] or k} {text_of(v)} {units.get(k, ('', ''))[1]}".strip() for k, v in values.items()
    ]
    done = "överhoppad" if item.get("skipped") else ", ".join(shown) or "genomförd"
    comment = text_of(first(item, "comment"))
    return f"{when(first(item, 'occasion', 'registered_at'))}  {title}: {done}{f' – {comment}' if comment else ''}"


def flags_and_batteries(pdf: JournalPdf, doc: ExportDocument) -> None:
    pdf.heading("Flaggor")
    for flag in doc.forms.flags:
        handled = f", hanterad {when(flag.get('handled_at'))}" if flag.get("handled_at") else ""
        pdf.line_of(f"{when(first(flag, 'raised_at'))}  {text_of(first(flag, 'label', 'kind')) or 'Flagga'}{handled}")
    if not doc.forms.flags:
        pdf.nothing()
    pdf.heading("Mätbatterier")
    for battery in doc.forms.batteries:
        forms = text_of(first(battery, "form_ids"))
        stopped = f", stoppat {when(battery.get('stopped_at'))}" if battery.get("stopped_at") else ""
        pdf.line_of(f"{when(first(battery, 'created_at'))}  {title_of(battery, 'Mätbatteri')}: {forms}{stopped}")
    if not doc.forms.batteries:
        pdf.nothing()


def notifications(pdf: JournalPdf, doc: ExportDocument) -> None:
    pdf.heading("Aviseringar")
    for item in doc.notifications.notifications:
        to = {"patient": " till patienten", "staff": " till personal"}.get(item.recipient_kind or "", "")
        sent = f", skickad {when(item.sent_at)}" if item.sent_at else ""
        pdf.line_of(f"{when(item.created_at)}  {item.trigger_kind}{to} via {item.channel}: {item.state}{sent}")
    if not doc.notifications.notifications:
        pdf.nothing()


def handovers(pdf: JournalPdf, doc: ExportDocument) -> None:
    pdf.heading("Överlämningar")
    for item in doc.handover.handovers:
        time_key = next((k for k in TIME_KEYS if iso_time(item.get(k))), "")
        pdf.line_of(f"{when(item.get(time_key))}  {summary(item, (time_key,))}")
    if not doc.handover.handovers:
        pdf.nothing()


def audit_summary(pdf: JournalPdf, doc: ExportDocument) -> None:
    pdf.heading("Loggsammanfattning")
    for service, audit in doc.audit_by_service().items():
        period = f" ({when(audit.first_at)} – {when(audit.last_at)})" if audit.first_at else ""
        pdf.subheading(f"{service}{period}")
        for action, count in sorted(audit.counts.items()):
            pdf.line_of(f"{action}: {count}", indent=4)
        if not audit.counts:
            pdf.nothing()
