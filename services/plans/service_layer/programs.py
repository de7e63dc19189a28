"""Use cases of the program catalogue: publish a version, read one, list them."""

from __future__ import annotations

from services.plans.domain.program import ProgramImported, ProgramSummary, ProgramVersion
from services.plans.service_layer.ports import ProgramRepository
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.principals import Staff
from shared.storage.unit_of_work import Transaction, UnitOfWork


class ProgramCatalog:
    """Published program versions: immutable once published; re-publishing identical content is a no-op."""

    def __init__(self, uow: UnitOfWork, programs: ProgramRepository) -> None:
        self.uow = uow
        self.programs = programs

    async def import_program(self, program: ProgramVersion, by: Staff) -> ProgramImported:
        """Publish a version; `created` is False if this exact content was already published."""

        async def work(tx: Transaction) -> bool:
            existing = await self.programs.digest(program.program_id, program.version, tx.session)
            if existing == program.digest():
                return False
            if existing is not None:
                raise Conflict(
                    f"{program.program_id} version {program.version} is published with other content; "
                    "publish a new version",
                    field="version",
                )
            await self.programs.add(program, published_by=by.hsa_id, now=tx.clock.now(), session=tx.session)
            return True

        created = await self.uow.run(work)
        return ProgramImported(program_id=program.program_id, version=program.version, created=created)

    async def program(self, program_id: str, version: str) -> ProgramVersion:
        program = await self.programs.get(program_id, version)
        if program is None:
            raise NotFound(f"no program {program_id!r} version {version!r}", field="program_version")
        return program

    async def catalogue(self) -> list[ProgramSummary]:
        return await self.programs.catalogue()
