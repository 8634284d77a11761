"""`python -m utils.grade`: the instructor's grader (see `utils.course.grading.grade`)."""
import sys

from .course.grading.grade import main

if __name__ == "__main__":
    sys.exit(main())
