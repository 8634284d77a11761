"""Tools for the course's maintainers and instructors: `labgen` (student labs from solutions), `t4_budget` (the t4
recipes' cost on a GPU), `grading` (`python -m utils.grade`) and `layers` (the import rules of `utils/`)."""
