"""A physically honest simulator of a leg-worn IMU, with exact labels.

``SimulatedSession`` plans a session (sets, reps with a tempo, rests with
fidgeting, strap repositioning and walking about) and renders the readings
of an LSM6DS3 strapped to the thigh or shank, lazily, block by block::

    from repsense.sim import SimulatedSession

    sim = SimulatedSession(exercise="leg_curl", placement="shank", sets=3, reps=10,
                           tempo="3-1-1-0", rate_hz=50, seed=1)
    for chunk in sim.chunks(chunk_s=0.1):   # repsense.samples.SampleChunk
        ...
    sim.labels   # {"sets": [{"exercise", "reps", "start_s", "end_s", "rep_detail": [...]}]}
    sim.meta     # the full sidecar

``SimulatedSession.from_plan(plan)`` follows a training plan (TOML schema of
``repsense plans``).  See :mod:`repsense.sim.leg` for the kinematics,
:mod:`repsense.sim.trajectories` for the movements and
:mod:`repsense.sim.imu_model` for the sensor's errors.
"""

from repsense.sim.session import NUISANCE_LEVELS, SimulatedSession
from repsense.sim.trajectories import SPECS, get_spec, parse_tempo, variants

__all__ = ["NUISANCE_LEVELS", "SPECS", "SimulatedSession", "get_spec", "parse_tempo", "variants"]
