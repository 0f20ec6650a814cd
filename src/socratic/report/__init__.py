"""The run report: report.html (self-contained) and report.md, built from a run or evaluation folder.

    from socratic.report import build_report
    build_report("runs/quickstart")   # -> (runs/quickstart/report.html, runs/quickstart/report.md)
"""

from socratic.report.build import build_report

__all__ = ["build_report"]
