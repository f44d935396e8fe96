"""Exercises with autograded checks: generate them from the solutions, grade submissions safely.

One module per concern, all around one result type:

- `result`: what a submission scored on each question, and why (plain JSON data).
- `otter_format`: otter's test files read into questions, cases and points.
- `assign`: `otter assign` on each solution notebook writes the student notebook and its public
  tests into `exercises/`, and every test into `_build/grading/` (solutions may live in a
  private folder, `COURSE_SOLUTIONS`).
- `batch`: scheduling: one worker process per submission, a cache of finished results.
- `worker`: grades one submission: runs its cells in a sandbox, then the tests in itself.
- `runner`, `sandbox`, `protocol`, `isolation`, `confine`: sandbox control: the sandbox process,
  its limits and namespaces, and the plain-data wire between it and the grader.
- `judge`: runs the tests in the grader's own process against values fetched from the sandbox.
- `report`: `grades.csv` and the feedback files.
- `answered`: the student notebook answered with the solution (tests and `make benchmark`).

Keep this package's `__init__` free of imports: the sandbox process imports it too.
"""
