"""Property: whatever the program and whatever staff do, the patient never sees a hidden step or a
module that is not current, and never an empty section."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.plans.domain.plan import ModuleState, Plan
from services.plans.domain.program import Module, ProgramVersion, Section, Step
from services.plans.domain.views import patient_view, staff_view

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@st.composite
def programs(draw: st.DrawFn) -> ProgramVersion:
    counter = iter(range(10_000))
    modules = []
    for _ in range(draw(st.integers(1, 5))):
        sections = []
        for _ in range(draw(st.integers(1, 4))):
            steps = [
                Step(id=f"st{next(counter)}", title="Steg", visible_at_start=draw(st.booleans()))
                for _ in range(draw(st.integers(1, 5)))
            ]
            sections.append(Section(id=f"se{next(counter)}", title="Avsnitt", steps=steps))
        modules.append(
            Module(
                id=f"mo{next(counter)}",
                title="Modul",
                current_at_start=draw(st.booleans()),
                recommended_days=draw(st.one_of(st.none(), st.integers(1, 60))),
                sections=sections,
            )
        )
    return ProgramVersion(program_id="prop", version="1.0", title="P", welcome_text="V", modules=modules)


actions = st.lists(
    st.tuples(
        st.sampled_from(["module", "step"]), st.integers(0, 10_000), st.sampled_from(list(ModuleState)), st.booleans()
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(program=programs(), changes=actions)
def test_patient_sees_only_current_modules_and_visible_steps(program: ProgramVersion, changes: list) -> None:
    plan = Plan.start(
        program,
        unit_id="U",
        personnummer="191212121212",
        patient_name="N",
        protected_identity=False,
        responsible_hsa_id="H",
        started_by="H",
        now=NOW - timedelta(days=3),
    )
    step_ids = sorted(program.step_ids())
    for kind, index, state, visible in changes:
        if kind == "module":
            module = plan.modules[index % len(plan.modules)]
            with contextlib.suppress(Exception):  # illegal transitions are refused; the plan stays as it was
                plan.set_module_state(program, module.id, state, NOW)
        else:
            plan.set_step_visibility(step_ids[index % len(step_ids)], visible)

    view = patient_view(plan, program, NOW)
    current = {m.id for m in plan.modules if m.state is ModuleState.CURRENT}
    assert {m.id for m in view.modules} == current
    for module in view.modules:
        for section in module.sections:
            assert section.steps, "a section whose steps are all hidden is not shown"
            for step in section.steps:
                assert plan.step_visibility[step.id], f"hidden step {step.id} shown to the patient"
    shown = {s.id for m in view.modules for sec in m.sections for s in sec.steps}
    expected = {
        s.id
        for m in program.modules
        if m.id in current
        for sec in m.sections
        for s in sec.steps
        if plan.step_visibility[s.id]
    }
    assert shown == expected  # and nothing visible in a current module is left out

    counts = {m.id: (m.visible_steps, m.total_steps) for m in staff_view(plan, program, NOW).modules}
    for module in program.modules:
        steps = [s for sec in module.sections for s in sec.steps]
        assert counts[module.id] == (sum(plan.step_visibility[s.id] for s in steps), len(steps))


def test_module_transitions() -> None:
    program = ProgramVersion(
        program_id="p",
        version="1",
        title="P",
        welcome_text="V",
        modules=[Module(id="m", title="M", sections=[Section(id="s", title="S", steps=[Step(id="x", title="X")])])],
    )
    plan = Plan.start(
        program,
        unit_id="U",
        personnummer="191212121212",
        patient_name="N",
        protected_identity=False,
        responsible_hsa_id="H",
        started_by="H",
        now=NOW,
    )
    assert plan.module("m").state is ModuleState.UPCOMING
    for illegal in (ModuleState.COMPLETED, ModuleState.UPCOMING):
        try:
            plan.set_module_state(program, "m", illegal, NOW)
            raise AssertionError(f"upcoming → {illegal} must be refused")
        except Exception as exc:  # noqa: BLE001
            assert "cannot go from upcoming" in str(exc)
    plan.set_module_state(program, "m", ModuleState.CURRENT, NOW)
    plan.set_module_state(program, "m", ModuleState.COMPLETED, NOW)
    plan.set_module_state(program, "m", ModuleState.CURRENT, NOW)  # completed → current again: asked anew
    assert plan.module("m").state is ModuleState.CURRENT
