"""Pictures of sessions and recordings: movement angle, reps, phases, tempo, velocity loss.

:func:`repsense.report.data.load_report_data` gathers what to draw and
:func:`repsense.report.figure.write_report` writes a PNG or an HTML page.
"""
