"""Standard instruments score exactly as their manuals say; the rule language refuses what it must."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.forms.domain import formula
from services.forms.domain.definition import FormDefinition
from services.forms.domain.scoring import score, validate_answers

INSTRUMENTS = Path(__file__).resolve().parents[2] / "services" / "forms" / "instruments"


def instrument(form_id: str) -> FormDefinition:
    return FormDefinition.model_validate_json((INSTRUMENTS / f"{form_id}.json").read_text())


def answers_summing_to(form: FormDefinition, total: int, questions: list[str]) -> dict[str, str]:
    """Choice answers whose scores add up to `total` (filling items in order)."""
    chosen = {}
    for qid in questions:
        options = sorted(form.question(qid).options, key=lambda o: o.score)  # type: ignore[union-attr]
        pick = max((o for o in options if o.score <= total), key=lambda o: o.score)
        chosen[qid] = pick.value
        total -= int(pick.score)
    assert total == 0
    return chosen


def result(form: FormDefinition, answers: dict, result_id: str = "total"):
    return next(r for r in score(form, answers) if r.result_id == result_id)


@pytest.mark.parametrize(
    "form_id, items, cut_offs",
    [
        (
            "phq_9",
            9,
            [
                (0, "Minimala"),
                (4, "Minimala"),
                (5, "Lindriga"),
                (9, "Lindriga"),
                (10, "Måttliga"),
                (14, "Måttliga"),
                (15, "Medelsvåra"),
                (19, "Medelsvåra"),
                (20, "Svåra"),
                (27, "Svåra"),
            ],
        ),
        (
            "gad_7",
            7,
            [
                (0, "Minimal"),
                (4, "Minimal"),
                (5, "Lindrig"),
                (9, "Lindrig"),
                (10, "Måttlig"),
                (14, "Måttlig"),
                (15, "Svår"),
                (21, "Svår"),
            ],
        ),
        (
            "isi",
            7,
            [
                (0, "Ingen kliniskt signifikant insomni"),
                (7, "Ingen kliniskt signifikant insomni"),
                (8, "Subklinisk insomni"),
                (14, "Subklinisk insomni"),
                (15, "Måttlig klinisk insomni"),
                (21, "Måttlig klinisk insomni"),
                (22, "Svår klinisk insomni"),
                (28, "Svår klinisk insomni"),
            ],
        ),
        (
            "audit",
            10,
            [
                (0, "Zon I: låg risk"),
                (7, "Zon I: låg risk"),
                (8, "Zon II: riskbruk"),
                (15, "Zon II: riskbruk"),
                (16, "Zon III: skadligt bruk"),
                (19, "Zon III: skadligt bruk"),
                (20, "Zon IV: möjligt beroende"),
                (40, "Zon IV: möjligt beroende"),
            ],
        ),
    ],
)
def test_published_cut_offs(form_id: str, items: int, cut_offs: list[tuple[int, str]]) -> None:
    form = instrument(form_id)
    questions = [f"q{i}" for i in range(1, items + 1)]
    for total, label in cut_offs:
        answers = answers_summing_to(form, total, questions)
        assert validate_answers(form, answers, complete=True) == []
        scored = result(form, answers)
        assert (scored.value, scored.label) == (total, label), (form_id, total)


def test_audit_items_9_and_10_score_0_2_4() -> None:
    form = instrument("audit")
    assert [o.score for o in form.question("q9").options] == [0, 2, 4]  # type: ignore[union-attr]
    assert [o.score for o in form.question("q10").options] == [0, 2, 4]  # type: ignore[union-attr]


def test_phq9_prorates_up_to_two_missing_items_and_flags_item_9() -> None:
    form = instrument("phq_9")
    answers = {f"q{i}": "2" for i in range(1, 8)}  # q8 and q9 unanswered: 14 over 7 items
    assert result(form, answers).value == 18.0
    assert not result(form, {f"q{i}": "2" for i in range(1, 7)}).scorable  # three missing: not scorable
    flagged = result(form, {**{f"q{i}": "0" for i in range(1, 9)}, "q9": "1"}, "item9")
    assert flagged.flag and flagged.label == "Ja"
    assert validate_answers(form, answers, complete=True)[0].rule == "is required"


def test_distress_thermometer_flags_at_four() -> None:
    form = instrument("distress_thermometer")
    assert not result(form, {"distress": 3}, "distress").flag
    assert result(form, {"distress": 4}, "distress").flag
    assert result(form, {"distress": 10}, "distress").label == "Förhöjd"


@pytest.mark.parametrize(
    "asleep, in_bed, value, label",
    [
        (420, 480, 87.5, "Normal"),
        (408, 480, 85.0, "Normal"),
        (407, 480, 84.7917, "Låg"),
        (480, 480, 100.0, "Normal"),
    ],
)
def test_sleep_efficiency(asleep: int, in_bed: int, value: float, label: str) -> None:
    scored = result(instrument("sleep_diary"), {"minutes_asleep": asleep, "minutes_in_bed": in_bed}, "sleep_efficiency")
    assert (scored.value, scored.label) == (value, label)


@pytest.mark.parametrize(
    "answer, rule",
    [
        ({"distress": 11}, "above the maximum"),
        ({"distress": -1}, "below the minimum"),
        ({"distress": 2.5}, "steps of 1"),
        ({"distress": "high"}, "must be a number"),
        ({"distress": float("nan")}, "finite"),
        ({"distress": float("inf")}, "finite"),
        ({"distress": True}, "number"),
    ],
)
def test_bad_answers_name_the_question_and_the_rule(answer: dict, rule: str) -> None:
    errors = validate_answers(instrument("distress_thermometer"), answer, complete=True)
    assert errors[0].question == "distress" and rule in errors[0].rule


def test_choices_text_and_unknown_questions() -> None:
    form = FormDefinition.model_validate(
        {
            "form_id": "t",
            "version": 1,
            "title": "T",
            "questions": [
                {
                    "id": "many",
                    "text": "?",
                    "type": "multiple_choice",
                    "min_choices": 1,
                    "max_choices": 2,
                    "options": [{"value": v, "label": v, "score": 1} for v in "abc"],
                },
                {"id": "free", "text": "?", "type": "text", "max_length": 5, "required": False},
            ],
        }
    )
    checks = [
        ({"many": ["a", "b", "c"]}, "at most 2"),
        ({"many": []}, "at least 1"),
        ({"many": ["x"]}, "among"),
        ({"many": ["a", "a"]}, "twice"),
        ({"many": ["a"], "free": "too long"}, "longer than 5"),
        ({"many": ["a"], "nope": 1}, "not a question"),
    ]
    for answers, rule in checks:
        assert any(rule in e.rule for e in validate_answers(form, answers, complete=True)), rule


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "a.b",
        "a[0]",
        "lambda: 1",
        "open('x')",
        "'text'",
        "a if b else c",
        "a ** 9999999",
        "True + 1",
    ],
)
def test_formula_language_refuses_anything_but_arithmetic(text: str) -> None:
    with pytest.raises(formula.FormulaError):
        formula.parse(text)


def test_formulas_compute_and_refuse_division_by_zero() -> None:
    assert formula.evaluate("max(a, b) / (a + 1) * 100", {"a": 1, "b": 3}) == 150
    assert formula.names("max(a, b) + c") == {"a", "b", "c"}
    with pytest.raises(formula.FormulaError, match="division by zero"):
        formula.evaluate("a / b", {"a": 1, "b": 0})


@pytest.mark.parametrize(
    "results, message",
    [
        (
            [
                {
                    "id": "r",
                    "title": "R",
                    "kind": "sum",
                    "questions": ["ghost"],
                    "intervals": [{"min": 0, "max": 1, "label": "x", "colour": "#000000"}],
                }
            ],
            "unknown questions: ghost",
        ),
        (
            [
                {
                    "id": "r",
                    "title": "R",
                    "kind": "formula",
                    "formula": "ghost * 2",
                    "intervals": [{"min": 0, "max": 1, "label": "x", "colour": "#000000"}],
                }
            ],
            "unknown questions: ghost",
        ),
        (
            [
                {
                    "id": "r",
                    "title": "R",
                    "kind": "sum",
                    "questions": ["a"],
                    "intervals": [
                        {"min": 0, "max": 5, "label": "x", "colour": "#000000"},
                        {"min": 4, "max": 9, "label": "y", "colour": "#000000"},
                    ],
                }
            ],
            "overlap",
        ),
        (
            [
                {
                    "id": "r",
                    "title": "R",
                    "kind": "sum",
                    "questions": ["a"],
                    "intervals": [
                        {"min": 0, "max": 4, "label": "x", "colour": "#000000"},
                        {"min": 5, "max": 9, "label": "y", "colour": "#000000"},
                    ],
                }
            ],
            "gap",
        ),
    ],
)
def test_bad_rules_are_refused_at_publish_time(results: list, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FormDefinition.model_validate(
            {
                "form_id": "t",
                "version": 1,
                "title": "T",
                "results": results,
                "questions": [{"id": "a", "text": "?", "type": "number"}],
            }
        )


@pytest.mark.parametrize("answer", [["1"], {"value": "1"}, [], {}, 1, 1.5, True])
def test_a_single_choice_that_is_not_one_option_value_names_the_question(answer: object) -> None:
    """Issue 13: a list or an object was `TypeError: unhashable type` (a 500), now a rule broken (a 422)."""
    form = instrument("phq_9")
    answers = {f"q{n}": "0" for n in range(1, 10)} | {"q4": answer}
    [error] = validate_answers(form, answers, complete=True)
    assert error.question == "q4" and "option" in error.rule
