"""The bundled model's ship rule, as `benchmarks/generalization.py --against` checks it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def rows(ship_rule):
    def make(gain: float, worst: float, harm: float, harm_worst: float) -> dict[str, dict]:
        table = {name: {"gain": gain, "worst_gain": worst} for name in ship_rule.RULE_SETS}
        table[ship_rule.HARM_SET] = {"psnr": harm, "worst_psnr": harm_worst}
        return table

    return make


def test_a_candidate_better_everywhere_passes_every_clause(ship_rule, rows):
    clauses = ship_rule.ship_verdict(rows(0.2, -0.1, 50, 45), rows(0.1, -2.0, 41, 37))
    assert len(clauses) == 8 and all(ok for _, ok in clauses)


def test_a_tie_on_the_mean_gain_is_not_a_win(ship_rule, rows):
    clauses = dict(ship_rule.ship_verdict(rows(0.1, 0.0, 50, 45), rows(0.1, 0.0, 41, 37)))
    losing = [clause for clause, ok in clauses.items() if not ok]
    assert len(losing) == 3 and all("mean gain" in clause for clause in losing)


@pytest.mark.parametrize("worst, passes", [(-0.30, True), (-0.31, False)])
def test_no_image_may_lose_more_than_the_allowed_decibels(ship_rule, rows, worst, passes):
    clauses = ship_rule.ship_verdict(rows(0.5, worst, 50, 45), rows(0.1, 0.0, 41, 37))
    worst_clauses = [
        ok for clause, ok in clauses if "worst image" in clause and "(e)" not in clause
    ]
    assert worst_clauses == [passes] * 3


def test_sharp_photos_must_come_out_at_least_as_intact_as_with_the_reference(ship_rule, rows):
    clauses = ship_rule.ship_verdict(rows(0.5, 0.0, 50, 36.9), rows(0.1, 0.0, 41, 37))
    assert [clause for clause, ok in clauses if not ok] == [
        "(e) do no harm: worst image 36.90 >= 37.00 dB"
    ]


def test_only_gopro_sets_follow_the_alignment_option_and_levin_is_always_aligned(
    ship_rule, tmp_path
):
    radius = {name: align for name, (_, align) in ship_rule.paired_sets(tmp_path, tmp_path).items()}
    assert radius == {
        "(a) same recording": 0,
        "(b) GOPR0374 (val)": 0,
        "(c) gopro_crops256": 0,
        "(d) Levin 2009": 8,
    }
    aligned = ship_rule.paired_sets(tmp_path, tmp_path, gopro_align=3)
    assert [align for _, align in aligned.values()] == [3, 3, 3, 8]
