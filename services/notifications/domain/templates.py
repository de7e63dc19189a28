"""Swedish notification texts. They never carry health information; patients with protected
identity get a generic text that does not even name the unit."""

from __future__ import annotations

from string import Template

from pydantic import BaseModel

DEFAULT_UNIT_NAME = "din mottagning"
"""What `${unit_name}` says until units have display names."""


class MissingVariable(ValueError):
    """A template needs a variable the trigger did not give: the notification cannot be sent."""


class Text(BaseModel):
    subject: str
    body: str


TEMPLATES: dict[str, Text] = {
    "new_message": Text(
        subject="Nytt meddelande i Min vårdplan",
        body="Hej! Du har fått ett nytt meddelande i Min vårdplan från ${unit_name}. "
        "Logga in på 1177.se för att läsa det. Svara inte på detta meddelande.",
    ),
    "form_to_fill_in": Text(
        subject="Ett formulär att fylla i",
        body="Hej! Du har ett formulär att fylla i i Min vårdplan från ${unit_name}. Logga in på 1177.se.",
    ),
    "form_reminder": Text(
        subject="Påminnelse: ett formulär att fylla i",
        body="Hej! Du har fortfarande ett formulär att fylla i i Min vårdplan från ${unit_name}. Logga in på 1177.se.",
    ),
    "staff_new_patient_message": Text(
        subject="Nytt meddelande från en patient",
        body="En patient som du är ansvarig för har skickat ett meddelande. Logga in i Stöd och behandling.",
    ),
    "staff_reply_overdue": Text(
        subject="Obesvarat meddelande",
        body="Ett meddelande från en patient på ${unit_name} har inte besvarats inom tre arbetsdagar. "
        "Logga in i Stöd och behandling.",
    ),
    "purge_reminder": Text(
        subject="Din Min vårdplan avslutas snart",
        body="Hej! Din Min vårdplan hos ${unit_name} avslutas om ${days_left} dagar. Prata med din "
        "kontaktsjuksköterska om du har frågor. Logga in på 1177.se.",
    ),
    "staff_purge_reminder": Text(
        subject="En vårdplan ska avslutas och gallras",
        body="En vårdplan som du är ansvarig för når gränsen 730 dagar om ${days_left} dagar. "
        "Logga in i Stöd och behandling för att avsluta och exportera den.",
    ),
    "handover_done": Text(
        subject="Din vårdplan har flyttats",
        body="Hej! Din vårdplan har flyttats till en annan mottagning. Logga in på 1177.se.",
    ),
    "staff_handover_received": Text(
        subject="En vårdplan har överlämnats till er",
        body="En patients vårdplan har överlämnats till ${unit_name} och du är ansvarig behandlare. "
        "Logga in i Stöd och behandling.",
    ),
    "plan_ended": Text(
        subject="Din vårdplan har avslutats",
        body="Hej! Din vårdplan hos ${unit_name} har avslutats. Har du frågor kan du kontakta din mottagning. "
        "Logga in på 1177.se.",
    ),
    "generic": Text(
        subject="Nytt i e-tjänsterna",
        body="Hej! Det finns något nytt för dig i e-tjänsterna på 1177.se. Logga in för att läsa det.",
    ),
}


def render(template: Text, variables: dict[str, str]) -> Text:
    """Fill in a template; a missing variable is an error, never a half-rendered text."""
    try:
        return Text(
            subject=Template(template.subject).substitute(variables), body=Template(template.body).substitute(variables)
        )
    except KeyError as exc:
        raise MissingVariable(f"template variable {exc.args[0]!r} missing") from None
    except ValueError as exc:
        raise MissingVariable(f"template is malformed: {exc}") from None


def text_for(
    template_name: str, variables: dict[str, str], *, protected_identity: bool, custom: Text | None = None
) -> Text:
    """The text a recipient gets: the generic one for protected identity (except staff-written announcements
    without unit details), otherwise the named template."""
    if custom is not None:
        return render(custom, variables)
    if protected_identity:
        return TEMPLATES["generic"]
    return render(TEMPLATES[template_name], variables)
