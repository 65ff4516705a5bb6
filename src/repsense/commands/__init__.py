"""Subcommands of the ``repsense`` CLI, one module each.

Every module defines ``register(subparsers)`` which adds its parser and sets
``func`` to a ``run(args) -> int`` function.  ``repsense.cli`` finds them all.
"""
