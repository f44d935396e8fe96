"""Exercises with autograded checks: generate them from the solutions, grade submissions safely.

- `assign`: `otter assign` on each solution notebook writes the student notebook and its public
  tests into `exercises/`, and every test plus the Gradescope zip into `_build/grading/`.
- `batch`, `worker`, `runner`, `sandbox`, `judge`, `protocol`: the grading command. Submissions
  run in sandbox processes under limits; tests run in the grader's own process on plain data.

Keep this package's `__init__` free of imports: the sandbox process imports it too.
"""
