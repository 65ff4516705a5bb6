"""Live training sessions: plans, plan-following session logic, terminal view, history.

``plans`` parses training plans, ``session`` follows one (sans-IO), ``view``
draws it, ``store`` keeps the history, ``config`` merges file, environment
and flags, and ``runner`` is the asyncio glue behind ``repsense live``.
"""
