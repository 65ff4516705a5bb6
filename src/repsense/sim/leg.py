"""Sagittal-plane leg chain and the physics that turns its motion into IMU readings.

World frame: ``x`` forward (the way the person faces when standing at the
start), ``y`` left, ``z`` up; gravity is ``(0, 0, -9.80665)`` m/s².

A segment (thigh or shank) is described by one absolute angle ``phi`` in the
sagittal plane, measured from straight down towards the front, and the heading
``psi`` of that plane about the vertical.  Its distal direction (hip→knee for
the thigh, knee→ankle for the shank) is ``R_z(psi) (sin phi, 0, -cos phi)``.
Knee flexion is ``phi_thigh - phi_shank`` in every posture:

=============  ================  ==================
posture        thigh ``phi``     shank ``phi``
=============  ================  ==================
standing       0                 0
seated         90                90 - knee flexion
supine         90 + hip flexion  thigh - knee flexion
prone          -90 + hip flexion thigh - knee flexion
=============  ================  ==================

The segment's own frame is ``R_seg = R_z(psi) R_y(-phi)``: when standing it
coincides with the world frame (``x`` anterior, ``y`` left, ``z`` towards the
proximal joint).  The sensor frame is
``R_ws = R_seg R_z(alpha) R_wobble R_case``: ``alpha`` is where round the limb
the strap sits (0 = front, 90° = outer side of a right leg), ``R_wobble``
a small out-of-plane soft-tissue rotation and ``R_case`` the orientation of
the sensor's axes on the strap (any rotation).

The readings are *derived*: specific force ``f = R_wsᵀ (a - g)`` with ``a``
the second derivative of the sensor's position, and ``ω = vee(R_wsᵀ Ṙ_ws)``,
both by central differences at the internal rate (≥ 400 Hz).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from repsense.dsp.orientation import skew

G = 9.80665
GRAVITY = np.array([0.0, 0.0, -G])


@dataclass(frozen=True)
class Body:
    """Segment lengths and where the strap sits (metres, fractions of the segment).

    Defaults are for an adult of about 1.78 m (Winter, *Biomechanics and Motor
    Control of Human Movement*: thigh 0.245 H, shank 0.246 H).
    """

    thigh_m: float = 0.44
    shank_m: float = 0.43
    ankle_height_m: float = 0.08
    thigh_site: float = 0.55
    """Strap position along the thigh from the hip (mid-thigh, above the quadriceps' bulk)."""
    shank_site: float = 0.40
    """Strap position along the shank from the knee (over the calf's widest part)."""
    thigh_radius_m: float = 0.075
    shank_radius_m: float = 0.05


def direction(phi_deg: np.ndarray, psi_deg: np.ndarray) -> np.ndarray:
    """Distal unit vector of a segment, ``(n, 3)``."""
    phi = np.radians(phi_deg)
    psi = np.radians(psi_deg)
    s = np.sin(phi)
    return np.stack([s * np.cos(psi), s * np.sin(psi), -np.cos(phi)], axis=-1)


def rot_z(angle_rad: np.ndarray) -> np.ndarray:
    """Rotations about ``z``, ``(n, 3, 3)``."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    z, o = np.zeros_like(c), np.ones_like(c)
    rows = [np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)]
    return np.stack(rows, -2)


def rot_y(angle_rad: np.ndarray) -> np.ndarray:
    """Rotations about ``y``, ``(n, 3, 3)``."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    z, o = np.zeros_like(c), np.ones_like(c)
    rows = [np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)]
    return np.stack(rows, -2)


def rotvec_to_matrix(w: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation vectors ``(n, 3)`` in radians to matrices ``(n, 3, 3)``."""
    theta = np.linalg.norm(w, axis=-1)
    small = theta < 1e-12
    k = w / np.where(small, 1.0, theta)[..., None]
    kx = skew(k)
    s = np.sin(theta)[..., None, None]
    c = (1 - np.cos(theta))[..., None, None]
    eye = np.broadcast_to(np.eye(3), kx.shape)
    return eye + s * kx + c * (kx @ kx)


def segment_rotation(phi_deg: np.ndarray, psi_deg: np.ndarray) -> np.ndarray:
    """``R_seg = R_z(psi) R_y(-phi)``, ``(n, 3, 3)``."""
    return rot_z(np.radians(psi_deg)) @ rot_y(-np.radians(phi_deg))


@dataclass
class LegPose:
    """The instrumented leg over a time grid (all arrays have the grid's length)."""

    phi_thigh: np.ndarray
    phi_shank: np.ndarray
    psi: np.ndarray
    hip: np.ndarray
    """World position of the hip joint, ``(n, 3)``."""

    def knee(self, body: Body) -> np.ndarray:
        return self.hip + body.thigh_m * direction(self.phi_thigh, self.psi)

    def ankle(self, body: Body) -> np.ndarray:
        return self.knee(body) + body.shank_m * direction(self.phi_shank, self.psi)


def hip_from_ankle(
    ankle: np.ndarray, phi_thigh: np.ndarray, phi_shank: np.ndarray, psi: np.ndarray, body: Body
) -> np.ndarray:
    """Hip position of a chain whose ankle is anchored (feet on the floor)."""
    return (
        ankle
        - body.shank_m * direction(phi_shank, psi)
        - body.thigh_m * direction(phi_thigh, psi)
    )


def sensor_pose(
    pose: LegPose, placement: str, body: Body, alpha_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """World position ``(n, 3)`` and segment-site rotation ``R_seg R_z(alpha)`` of the strap."""
    if placement == "thigh":
        phi, origin, length, frac, radius = (
            pose.phi_thigh, pose.hip, body.thigh_m, body.thigh_site, body.thigh_radius_m
        )
    else:
        phi, origin, length, frac, radius = (
            pose.phi_shank, pose.knee(body), body.shank_m, body.shank_site, body.shank_radius_m
        )
    r_seg = segment_rotation(phi, pose.psi)
    a = np.radians(alpha_deg)
    skin = np.array([np.cos(a), np.sin(a), 0.0]) * radius
    pos = origin + frac * length * direction(phi, pose.psi) + r_seg @ skin
    site = r_seg @ rot_z(np.array(a))
    return pos, site


def soft_tissue_response(acc: np.ndarray, fs: float, f0_hz: float, zeta: float) -> np.ndarray:
    """Extra acceleration of a strapped sensor wobbling on soft tissue.

    The sensor sits on a mass-spring-damper (skin and muscle, natural
    frequency ``f0_hz``, damping ``zeta``) driven by the bone's acceleration;
    the returned array is the acceleration of the sensor relative to the bone.
    Slow movements pass untouched; heel strikes and knocks make it ring.
    """
    w0 = 2 * np.pi * f0_hz
    # relative displacement x'' + 2 zeta w0 x' + w0^2 x = -a  ->  x''_rel = -a - 2zw0 x' - w0^2 x
    # transfer function from a to x''_rel: -s^2 / (s^2 + 2 zeta w0 s + w0^2)
    b, a_ = signal.bilinear([-1.0, 0.0, 0.0], [1.0, 2 * zeta * w0, w0 * w0], fs)
    return signal.lfilter(b, a_, acc, axis=0)


def derive_imu(
    pos: np.ndarray, rot: np.ndarray, fs: float, *, sta: tuple[float, float] | None = (16.0, 0.35)
) -> tuple[np.ndarray, np.ndarray]:
    """Specific force (g) and angular velocity (deg/s) in the sensor frame.

    Parameters
    ----------
    pos
        World positions of the sensor, ``(n, 3)`` metres, on a uniform grid.
    rot
        Sensor-to-world rotations, ``(n, 3, 3)``.
    fs
        Grid rate in Hz (keep it ≥ 400 Hz so differences are accurate).
    sta
        Soft-tissue resonance ``(f0_hz, zeta)`` or ``None`` for a rigid mount.

    Returns
    -------
    acc, gyr
        ``(n, 3)`` each; the first and last samples use one-sided differences.
    """
    dt = 1.0 / fs
    acc_w = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0)
    if sta is not None:
        acc_w = acc_w + soft_tissue_response(acc_w, fs, *sta)
    f_w = acc_w - GRAVITY
    f_s = np.einsum("nji,nj->ni", rot, f_w) / G
    rdot = np.gradient(rot, dt, axis=0)
    omega = np.einsum("nki,nkj->nij", rot, rdot)  # R^T Rdot: skew(omega) in the sensor frame
    w = 0.5 * np.stack(
        [omega[:, 2, 1] - omega[:, 1, 2], omega[:, 0, 2] - omega[:, 2, 0],
         omega[:, 1, 0] - omega[:, 0, 1]], axis=-1,
    )
    return f_s, np.degrees(w)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation drawn uniformly from SO(3) (Shoemake's unit quaternion method)."""
    u1, u2, u3 = rng.random(3)
    q = np.array([
        np.sqrt(1 - u1) * np.sin(2 * np.pi * u2), np.sqrt(1 - u1) * np.cos(2 * np.pi * u2),
        np.sqrt(u1) * np.sin(2 * np.pi * u3), np.sqrt(u1) * np.cos(2 * np.pi * u3),
    ])
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
