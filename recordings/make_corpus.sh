#!/usr/bin/env bash
# Regenerate every simulated recording in recordings/ deterministically.
# Run from the repository root:  bash recordings/make_corpus.sh
# (uses $REPSENSE, default: repsense on PATH, else .venv/bin/repsense)
set -euo pipefail
cd "$(dirname "$0")/.."
R="${REPSENSE:-$(command -v repsense || echo .venv/bin/repsense)}"
sim() { "$R" simulate "$@"; }
o=recordings

# the demo the README replays: 2 x 5 Romanian deadlifts, ~1 minute
sim --exercise romanian_deadlift --placement thigh --sets 2 --reps 5 --tempo 2-1-1-0 --rest 20 --nuisance none --rate 50 --seed 1 -o $o/demo_romanian_deadlift.csv

# every exercise x placement that can see it
sim --exercise leg_curl --variant prone --placement shank --sets 3 --reps 8 --tempo 3-1-1-0 --rest 40 --rate 50 --seed 11 -o $o/leg_curl_prone_shank_50hz.csv
sim --exercise leg_curl --variant seated --placement shank --sets 2 --reps 8 --tempo 2-0-1-1 --rest 30 --rate 100 --seed 12 -o $o/leg_curl_seated_shank_100hz.csv
sim --exercise leg_curl --variant standing --placement shank --sets 2 --reps 10 --tempo 2-0-1-0 --rest 30 --rate 25 --seed 13 -o $o/leg_curl_standing_shank_25hz.csv
sim --exercise deadlift --placement thigh --sets 3 --reps 5 --tempo 2-1-1-0 --rest 60 --nuisance full --rate 50 --seed 21 -o $o/deadlift_thigh_50hz_walking.csv
sim --exercise deadlift --placement shank --sets 2 --reps 5 --tempo 1-1-X-0 --rest 40 --rate 100 --seed 22 -o $o/deadlift_shank_100hz_explosive.csv
sim --exercise romanian_deadlift --placement thigh --sets 2 --reps 6 --tempo 4-1-1-0 --rest 40 --rate 50 --seed 31 -o $o/romanian_deadlift_thigh_50hz_4s_eccentric.csv
sim --exercise single_leg_deadlift --variant stance --placement thigh --sets 2 --reps 6 --tempo 3-1-1-0 --rest 30 --rate 50 --seed 41 -o $o/single_leg_deadlift_stance_thigh_50hz.csv
sim --exercise single_leg_deadlift --variant free --placement thigh --sets 2 --reps 6 --tempo 2-0-1-0 --rest 30 --rate 50 --seed 42 -o $o/single_leg_deadlift_free_thigh_50hz.csv
sim --exercise single_leg_deadlift --variant free --placement shank --sets 2 --reps 6 --tempo 2-0-1-0 --rest 30 --rate 25 --seed 43 -o $o/single_leg_deadlift_free_shank_25hz.csv
sim --exercise glute_bridge --placement thigh --sets 3 --reps 10 --tempo 1-0-1-2 --rest 40 --rate 50 --seed 51 -o $o/glute_bridge_thigh_50hz.csv
sim --exercise glute_bridge --placement shank --sets 2 --reps 10 --tempo 1-0-1-1 --rest 30 --rate 25 --seed 52 -o $o/glute_bridge_shank_25hz.csv
sim --exercise hip_thrust --placement thigh --sets 2 --reps 6 --tempo 1-0-X-1 --rest 30 --rate 200 --seed 61 -o $o/hip_thrust_thigh_200hz_explosive.csv
sim --exercise hip_thrust --placement shank --sets 2 --reps 8 --tempo 2-0-1-1 --rest 30 --rate 50 --seed 62 -o $o/hip_thrust_shank_50hz.csv
sim --exercise generic --variant knee_extension --placement shank --sets 2 --reps 10 --tempo 2-0-1-1 --rest 30 --rate 10 --seed 71 -o $o/generic_knee_extension_shank_10hz.csv
sim --exercise generic --variant leg_raise --placement thigh --sets 2 --reps 8 --tempo 2-0-2-1 --rest 30 --rate 25 --seed 72 -o $o/generic_leg_raise_thigh_25hz.csv
sim --exercise generic --variant reverse_hyperextension --placement thigh --sets 2 --reps 8 --rest 30 --rate 50 --seed 73 -o $o/generic_reverse_hyperextension_thigh_50hz.csv

# a placement that cannot see the exercise (the simulator warns; labels are still exact)
sim --exercise leg_curl --variant prone --placement thigh --sets 2 --reps 6 --tempo 2-0-1-1 --rest 30 --rate 50 --seed 81 -o $o/hard_leg_curl_prone_thigh_50hz.csv

# accelerometer-only sensors
sim --exercise romanian_deadlift --placement thigh --sets 2 --reps 8 --tempo 3-1-1-0 --rest 40 --rate 50 --accel-only --seed 91 -o $o/accel_only_romanian_deadlift_thigh_50hz.csv
sim --exercise leg_curl --placement shank --sets 2 --reps 8 --tempo 2-0-1-1 --rest 30 --rate 25 --accel-only --seed 92 -o $o/accel_only_leg_curl_shank_25hz.csv
sim --exercise glute_bridge --placement thigh --sets 2 --reps 10 --tempo 1-0-1-2 --rest 30 --rate 100 --accel-only --seed 93 -o $o/accel_only_glute_bridge_thigh_100hz.csv

# nuisances: partial reps + fatigue, timestamp jitter, walking and strap moves between sets
sim --exercise romanian_deadlift --placement thigh --sets 2 --reps 10 --tempo 3-0-1-0 --rest 45 --partial 0.2 --fatigue 0.6 --rate 50 --seed 101 -o $o/nuisance_partial_reps_romanian_deadlift_thigh.csv
sim --exercise glute_bridge --placement thigh --sets 2 --reps 10 --rest 30 --jitter-ms 4 --rate 50 --seed 102 -o $o/nuisance_jitter_glute_bridge_thigh.csv
sim --exercise leg_curl --variant seated --placement shank --sets 3 --reps 8 --rest 60 --nuisance full --rate 50 --seed 103 -o $o/nuisance_full_leg_curl_seated_shank.csv

# programmes
sim --plan $o/plans/hamstrings-glutes-short.toml --rate 25 --seed 201 -o $o/programme_hamstrings_glutes_day_25hz.csv
sim --plan heavy-3x3-6 --rate 20 --seed 202 -o $o/programme_heavy_3x3-6_20hz.csv
sim --plan hyperextension-bridge-superset --rate 25 --seed 203 -o $o/programme_superset_hyperextension_bridge_25hz.csv
