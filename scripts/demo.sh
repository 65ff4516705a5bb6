#!/usr/bin/env bash
# Set up repsense and replay the bundled demo recording through the live pipeline,
# printing reps and tempo as they happen and publishing them to MQTT (localhost:1883).
source "$(dirname "$0")/_setup.sh"
exec .venv/bin/repsense replay "${DEMO:-recordings/demo_romanian_deadlift.csv}" --exercise romanian_deadlift --speed "${SPEED:-10}" "$@"
