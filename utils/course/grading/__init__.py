"""Instructor grading of students' lab notebooks (`python -m utils.grade`).

`lab` reads what a lab's solution says is graded; `screen` reads a student's task code before it runs;
`assemble` builds the notebook the grader runs (the course's cells, the student's task cells); `sandbox`,
`landlock` and `kernel` guard the kernel it runs in; `execute` runs it under time and output limits; `score`
turns the run into points; `report` writes the gradebook and the feedback pages.
"""
