"""Form definitions: publishing immutable versions, and forms to and from FHIR R4 Questionnaires."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.forms.adapters import fhir
from services.forms.domain.definition import FormDefinition
from services.forms.domain.views import Published
from services.forms.service_layer.ports import FormStore
from shared.kernel.errors import Conflict, Invalid, NotFound
from shared.kernel.principals import Staff
from shared.storage.unit_of_work import Transaction, UnitOfWork


class DefinitionService:
    def __init__(self, uow: UnitOfWork, forms: FormStore) -> None:
        self.uow = uow
        self.forms = forms

    async def publish(self, form: FormDefinition, by: Staff) -> Published:
        """Publish a version; the same content again changes nothing, other content is a Conflict."""
        digest = form.digest()

        async def work(tx: Transaction) -> bool:
            existing = await self.forms.digest(form.form_id, form.version, tx.session)
            if existing == digest:
                return False
            if existing is not None:
                raise Conflict(
                    f"{form.form_id} version {form.version} is published with other content; publish a new version",
                    field="version",
                )
            await self.forms.add(form, digest, by.hsa_id, tx.session)
            return True

        return Published(form_id=form.form_id, version=form.version, created=await self.uow.run(work))

    async def import_questionnaire(
        self, resource: dict[str, Any], form_id: str | None, version: int | None, by: Staff
    ) -> Published:
        """Publish a FHIR R4 Questionnaire as a form; Invalid naming the item that can not be imported."""
        try:
            form = fhir.from_questionnaire(resource, form_id, version)
        except fhir.FhirImportError as exc:
            raise Invalid(str(exc), field=exc.field) from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            raise Invalid(
                f"the Questionnaire does not make a valid form: {first['msg']}",
                field=".".join(str(x) for x in first["loc"]) or "item",
            ) from exc
        return await self.publish(form, by)

    async def form(self, form_id: str) -> FormDefinition:
        """The latest version."""
        form = await self.forms.latest(form_id)
        if form is None:
            raise NotFound(f"no form {form_id!r}", field="form_id")
        return form

    async def version(self, form_id: str, version: int) -> FormDefinition:
        """A given version (the latest if that one is gone)."""
        return await self.forms.version(form_id, version) or await self.form(form_id)

    async def export_questionnaire(self, form_id: str) -> dict[str, Any]:
        """The latest version as a FHIR R4 Questionnaire."""
        return fhir.to_questionnaire(await self.form(form_id))
