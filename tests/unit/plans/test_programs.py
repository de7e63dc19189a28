"""Publishing and reading program versions."""

from __future__ import annotations

import pytest

from shared.kernel.errors import Conflict, NotFound
from tests.unit.plans.conftest import NOW, PROGRAM, PUBLISHER, World


async def test_a_new_version_is_published_and_listed(world: World) -> None:
    new = PROGRAM.model_copy(update={"version": "2.0", "title": "Programmet 2"})
    imported = await world.service.catalog.import_program(new, PUBLISHER)
    assert imported.model_dump() == {"program_id": "prog", "version": "2.0", "created": True}
    listed = await world.service.catalog.catalogue()
    assert [(p.version, p.title, p.published_by, p.published_at) for p in listed] == [
        ("1.0", "Programmet", PUBLISHER.hsa_id, NOW),
        ("2.0", "Programmet 2", PUBLISHER.hsa_id, NOW),
    ]
    assert await world.service.catalog.program("prog", "2.0") == new


async def test_publishing_identical_content_again_changes_nothing(world: World) -> None:
    again = await world.service.catalog.import_program(PROGRAM, PUBLISHER)
    assert again.created is False
    assert len(await world.service.catalog.catalogue()) == 1


async def test_a_published_version_cannot_get_other_content(world: World) -> None:
    changed = PROGRAM.model_copy(update={"title": "Ändrad"})
    with pytest.raises(Conflict) as refused:
        await world.service.catalog.import_program(changed, PUBLISHER)
    assert refused.value.field == "version"
    assert (await world.service.catalog.program("prog", "1.0")).title == "Programmet"


async def test_an_unknown_version_is_not_found_naming_the_field(world: World) -> None:
    with pytest.raises(NotFound) as missing:
        await world.service.catalog.program("prog", "9.9")
    assert missing.value.field == "program_version"
