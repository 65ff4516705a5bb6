#!/usr/bin/env bash
# Set up everything (venv, package, Mosquitto, tmux) and run the whole test suite.
source "$(dirname "$0")/_setup.sh" --with-test-tools
.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest "$@"
