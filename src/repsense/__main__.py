"""Allow ``python -m repsense``."""

from repsense.cli import main

raise SystemExit(main())
