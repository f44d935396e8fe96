"""The result type: scoring by otter's rules, and a size cap that nothing a submission prints
can get past (results are cached and sent between processes)."""

import json

from course_tools.grading import result

QUESTION = {
    "name": "q1",
    "cases": [{"points": 1.0, "hidden": False}, {"points": 2.0, "hidden": True}],
}


def outcomes(*passed: bool) -> list[dict]:
    return [
        {
            "hidden": case["hidden"],
            "points": case["points"],
            "passed": ok,
            "message": "",
        }
        for case, ok in zip(QUESTION["cases"], passed, strict=True)
    ]


def test_points_of_the_passed_cases_or_all_or_nothing():
    assert result.score_question(QUESTION, outcomes(True, False)) == 1.0
    assert (
        result.score_question(
            {**QUESTION, "all_or_nothing": True}, outcomes(True, False)
        )
        == 0
    )
    assert (
        result.score_question(
            {**QUESTION, "all_or_nothing": True}, outcomes(True, True)
        )
        == 3
    )


def test_a_result_has_a_size_cap():
    flood = result.empty("x.ipynb", [QUESTION])
    long = "x" * 10**5  # one string shared by every cell: not 5 GB of copies
    flood["cells"] = [
        {"cell": i, "status": "error", "message": long} for i in range(50_000)
    ]
    flood["messages"] = ["y" * 10**6] * 1000
    flood["tests"] = {"q1": [{**outcomes(False, False)[0], "message": "z" * 10**6}]}
    small = result.capped(flood)
    assert len(json.dumps(small)) < 2 * 1024**2
    assert len(small["cells"]) == result.MAX_CELLS_KEPT
    assert small["messages"][0] == "49800 more cells failed (not listed)"
    assert len(small["messages"]) == result.MAX_MESSAGES
    assert small["tests"]["q1"][0]["message"].endswith("characters cut)")
    assert result.capped(small) == small  # a second cap changes nothing


def test_an_honest_result_is_unchanged_by_the_cap():
    honest = result.empty("x.ipynb", [QUESTION])
    result.record(honest, QUESTION, outcomes(True, True))
    assert result.capped(honest) == honest
    assert result.total(honest) == result.total_possible(honest) == 3
