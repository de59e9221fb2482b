"""Reports about the model and its runs, kept out of the model core (which never imports them).

* :func:`build_report` writes the self-contained HTML run report with its figures.
* :func:`odd_markdown` writes the model's ODD description generated from the code, and
  :func:`coverage_gaps` lists what a hand-written ODD leaves out of it.
"""

from __future__ import annotations

from clusterlearn.report.figures import FIGURES
from clusterlearn.report.html import REPORT_NAME, build_report
from clusterlearn.report.odd import coverage_gaps, odd_markdown

__all__ = ["FIGURES", "REPORT_NAME", "build_report", "coverage_gaps", "odd_markdown"]
