# The course's commands. `make book` builds the website; `make test` runs every test.
# Each target creates (or reuses) .venv from the pinned requirements.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.requirements-installed
# The floor of the supported range (Colab's oldest libraries we support): `make test` runs every
# notebook there too, each alone in an empty folder.
FLOOR_VENV := .venv-floor
FLOOR_READY := $(FLOOR_VENV)/.requirements-installed
# JupyterLab, added to .venv by `make lab` only (requirements-lab.txt)
LAB_READY := $(VENV)/.lab-installed

.PHONY: pdf book test test-data execute badges links figures lock serve clean assign autograder grade lab check-public benchmark new

$(READY): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.x")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(FLOOR_READY): requirements-floor.txt
	@test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install --quiet -r requirements-floor.txt
	@touch $@

## book: build the website into _build/html (Sphinx warnings are errors); SOLUTIONS=0 leaves them out
SOLUTIONS ?= 1
book: $(READY)
	$(BIN)/python -m course_tools book $(if $(filter 0,$(SOLUTIONS)),--without-solutions)

## pdf: the whole book (without solutions) as one PDF, _build/html/course.pdf, printed offline by
## headless Chromium from Sphinx's single-page HTML
pdf: $(READY)
	$(BIN)/python -m course_tools.pdf

## serve: serve the built site on http://localhost:8000
serve:
	$(PYTHON) -m http.server --directory _build/html 8000

## test: lint, build the book, check stored outputs and links, run every notebook in quick mode under
## nbval, then again at the floor of the supported range, each notebook alone in an empty folder
test:
	@$(MAKE) --no-print-directory -j3 $(READY) $(FLOOR_READY) test-data  # all at once
	$(BIN)/python -m pytest -n 2 --durations=25

# IMDB's 100,000 files, extracted once into _build/test-data for every later test run
test-data:
	@$(PYTHON) -m course_tools.datasets

$(LAB_READY): $(READY) requirements-lab.txt
	$(BIN)/python -m pip install --quiet -c requirements.txt -r requirements-lab.txt
	@touch $@

## lab: open JupyterLab in the course's environment, at the repository root (the first time, adds
## JupyterLab to .venv from requirements-lab.txt)
lab: $(LAB_READY)
	$(BIN)/python -m jupyterlab

## execute: re-run notebooks in full mode and store their outputs (NB=path/to/one.ipynb for one)
execute: $(READY)
	$(BIN)/python -m course_tools execute $(NB)

## new: start a notebook from templates/ and run it: make new NB=notebooks/NN_topic.ipynb (NN its
## chapter) or make new NB=solutions/exN_topic.ipynb (an exercise: also generates its student notebook)
new: $(READY)
	@test -n "$(NB)" || { echo "usage: make new NB=notebooks/NN_topic.ipynb | NB=solutions/exN_topic.ipynb"; exit 2; }
	$(BIN)/python -m course_tools new $(NB)
	$(if $(findstring solutions/,$(NB)),$(BIN)/python -m course_tools.grading assign)
	$(BIN)/python -m course_tools execute $(NB)

## links: point every notebook's Colab badge and its links to the course's pages at the addresses
## of _config.yml (`badges` is the same command)
links badges: $(READY)
	$(BIN)/python -m course_tools links

## figures: redraw the SVG diagrams of book/figures
figures: $(READY)
	$(BIN)/python book/figures/make_figures.py

## assign: regenerate exercises/ (student notebooks and their public tests) from solutions/
assign: $(READY)
	$(BIN)/python -m course_tools.grading assign

## autograder: build each exercise's Gradescope autograder zip into _build/grading/NAME/; it grades
## with the course's own sandboxed grader, as `make grade` does (from COURSE_SOLUTIONS when set)
autograder: $(READY)
	$(BIN)/python -m course_tools.grading autograder

## check-public: fail if a hidden test appears in exercises/ or in PATHS (e.g. PATHS=_build/html)
check-public: $(READY)
	$(BIN)/python -m course_tools.grading check-public $(PATHS)

## grade: grade a folder of submissions: make grade EXERCISE=ex1_concepts SUBMISSIONS=dir [OUT=dir] [JOBS=n]
grade: $(READY)
	@test -n "$(EXERCISE)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade EXERCISE=name SUBMISSIONS=folder [OUT=folder] [JOBS=n]"; exit 2; }
	$(BIN)/python -m course_tools.grading grade "$(SUBMISSIONS)" --exercise $(EXERCISE) $(if $(OUT),--out "$(OUT)") $(if $(JOBS),--jobs $(JOBS))

## benchmark: print a table of each notebook's stored full-mode seconds, the book build's seconds and
## the grader's submissions per minute (--skip-grading, --skip-book, --submissions N via ARGS=)
benchmark: $(READY)
	$(BIN)/python -m course_tools.benchmark $(ARGS)

## lock: re-resolve requirements.in into the pinned requirements.txt, and requirements-lab.in on top
## of it into requirements-lab.txt (what `make lab` adds)
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -r requirements.in
	{ echo "# Generated by \`make lock\` from requirements.in; do not edit by hand."; .venv-lock/bin/python -m pip freeze; } > requirements.txt
	.venv-lock/bin/python -m pip install --quiet -c requirements.txt -r requirements-lab.in
	{ echo "# Generated by \`make lock\` from requirements-lab.in: what \`make lab\` adds to requirements.txt; do not edit by hand."; \
	  .venv-lock/bin/python -m pip freeze | grep -v -x -F -f requirements.txt; } > requirements-lab.txt
	rm -rf .venv-lock

clean:
	rm -rf _build .cache $(FLOOR_VENV)
