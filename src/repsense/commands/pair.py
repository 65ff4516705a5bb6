"""``repsense pair``: connect to a sensor, check it, capture its mounting, save a profile."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

import numpy as np

from repsense.ble.backend import add_backend_arguments
from repsense.ble.cli_support import run_ble
from repsense.ble.errors import BleError
from repsense.ble.profiles import (
    PLACEMENTS,
    SIDES,
    SensorProfile,
    find_profile,
    profile_path,
    save_profile,
    validate_name,
)
from repsense.errors import InputError

STILL_ACC_STD_G = 0.03
"""Above this spread of |acc| (g) during capture, the user was not standing still."""
STILL_GYR_DPS = 8.0
"""Above this mean rotation rate (deg/s), the user was not standing still."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pair",
        help="pair a sensor: check its stream, capture mounting, save a named profile",
        description="Connect to SENSOR (address or advertised name from 'repsense scan', or an "
        "existing profile name to re-pair), read Device Information and battery, configure the "
        "rate, stream a few seconds and report the measured rate and loss, then capture the "
        "mounting orientation while you stand still (thigh sensors: stand upright), bond if the "
        "sensor needs it, and save a profile that 'repsense live' and 'repsense record' use.",
    )
    p.add_argument("sensor", metavar="SENSOR", help="address, advertised name or profile name")
    p.add_argument("--name", help="profile name (default: TYPE-LAST4 of the address)")
    p.add_argument("--placement", choices=PLACEMENTS,
                   help="where the sensor is strapped (asked if omitted on a terminal)")
    p.add_argument("--side", choices=SIDES, help="which leg (asked if omitted on a terminal)")
    p.add_argument("--rate", type=float, default=None, metavar="HZ",
                   help="sample rate to configure (default: the sensor's default, ~100 Hz)")
    p.add_argument("--check-s", type=float, default=3.0, metavar="S",
                   help="seconds streamed to measure rate and loss (default 3)")
    p.add_argument("--still-s", type=float, default=2.0, metavar="S",
                   help="seconds of standing still for the mounting capture (default 2)")
    p.add_argument("--bond", action="store_true",
                   help="bond (OS-level pairing) even if the sensor does not require it")
    p.add_argument("--yes", "-y", action="store_true",
                   help="do not wait for Enter before the capture (for scripts)")
    p.add_argument("--force", action="store_true", help="overwrite an existing profile")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds to find and connect to the sensor (default 10)")
    add_backend_arguments(p)
    p.set_defaults(func=run)


def _ask(prompt: str, choices: tuple[str, ...]) -> str | None:
    if not sys.stdin.isatty():
        return None
    while True:
        answer = input(f"{prompt} [{'/'.join(choices)}]: ").strip().lower()
        if answer in choices:
            return answer
        if not answer:
            return None


async def _collect(stream, seconds: float) -> list:
    """Samples for ``seconds`` of stream time (also counts rate/loss in stream.stats)."""
    from repsense.ble.stream import Samples

    chunks = []
    clock = stream.clock
    end = clock() + seconds
    it = stream.__aiter__()
    while clock() < end:
        try:
            item = await asyncio.wait_for(it.__anext__(), timeout=max(0.05, 5.0))
        except (StopAsyncIteration, TimeoutError):
            break
        if isinstance(item, Samples):
            chunks.append(item.chunk)
    return chunks


def run(args: argparse.Namespace) -> int:
    if args.name is not None:
        validate_name(args.name)
    if args.rate is not None and not 5 <= args.rate <= 1000:
        raise InputError(f"--rate {args.rate}: choose 5-1000 Hz")
    if not 0.5 <= args.check_s <= 60 or not 0.5 <= args.still_s <= 30:
        raise InputError("--check-s must be 0.5-60 s and --still-s 0.5-30 s")
    existing = find_profile(args.sensor)
    placement = args.placement or (existing.placement if existing else None)
    side = args.side or (existing.side if existing else None)
    if placement is None:
        placement = _ask("Where is the sensor strapped?", PLACEMENTS)
    if side is None:
        side = _ask("Which leg?", SIDES)
    args.placement, args.side = placement, side

    async def body(backend, _sensors):
        return await pair_sensor(args, backend)

    run_ble(args, body)
    return 0


async def pair_sensor(args: argparse.Namespace, backend) -> SensorProfile:
    """The pairing flow on the running event loop; saves and returns the profile."""
    from repsense.ble.stream import SensorStream

    existing = find_profile(args.sensor)
    placement, side = args.placement, args.side

    async def body():

        target = existing.address if existing else args.sensor
        protocol = existing.protocol if existing else None
        stream = SensorStream(target, backend=backend, rate_hz=args.rate, protocol=protocol,
                              reconnect=False, connect_timeout_s=args.timeout)
        await stream.start()
        try:
            driver = stream.driver
            info = stream.device_info
            print(f"connected to {stream.target.name or stream.target.address} "
                  f"({driver.model_name(stream.target.name)}, {stream.target.address})")
            if info:
                print("device: " + ", ".join(f"{k} {v}" for k, v in info.items()))
            if stream.battery_pct is not None:
                print(f"battery: {stream.battery_pct}%")
            await _collect(stream, args.check_s)
            st = stream.stats
            if st.samples == 0:
                raise BleError(
                    f"sensor {stream.target.address} connected but sent no samples in "
                    f"{args.check_s:g} s; power-cycle it and pair again"
                )
            rate = st.measured_rate_hz or 0.0
            print(f"stream: {rate:.1f} Hz measured (configured {driver.rate_hz:g} Hz), "
                  f"{st.loss_pct:.1f}% lost, {st.malformed} malformed notifications")
            upright = " and upright" if placement in (None, "thigh") else ""
            if args.yes or not sys.stdin.isatty():
                print(f"capturing mounting: stand still{upright} for {args.still_s:g} s ...")
            else:
                await asyncio.to_thread(
                    input, f"Stand still{upright}, then press Enter (capture takes "
                    f"{args.still_s:g} s) "
                )
            chunks = await _collect(stream, args.still_s)
            if not chunks:
                raise BleError("no samples during the mounting capture; pair again")
            acc = np.concatenate([c.acc for c in chunks])
            gyr = [c.gyr for c in chunks if c.gyr is not None]
            norm = np.linalg.norm(acc, axis=1)
            moving = float(np.std(norm)) > STILL_ACC_STD_G or (
                bool(gyr) and float(np.mean(np.linalg.norm(np.concatenate(gyr), axis=1)))
                > STILL_GYR_DPS
            )
            if moving:
                raise InputError(
                    "you moved during the mounting capture; run 'repsense pair' again and "
                    f"stand still for {args.still_s:g} s"
                )
            g = acc.mean(axis=0)
            g = g / np.linalg.norm(g)
            bonded = bool(args.bond or getattr(driver, "requires_bonding", False))
            if bonded and stream.client is not None:
                try:
                    await stream.client.pair()
                except Exception as exc:  # noqa: BLE001 - platform-specific errors
                    raise BleError(
                        f"bonding with {stream.target.address} failed ({exc}); remove the "
                        "sensor from the system's Bluetooth settings and pair again"
                    ) from exc
            return stream, g, rate, bonded
        finally:
            await stream.close()

    stream, gravity, rate, bonded = await body()
    target = stream.target
    name = args.name or (existing.name if existing else
                         f"{target.protocol}-{target.address.replace(':', '')[-4:].lower()}")
    path = profile_path(name)
    if path.exists() and not args.force and not (existing and existing.name == name):
        raise InputError(f"{path}: a profile '{name}' exists; use --force or another --name")
    profile = SensorProfile(
        name=name,
        address=target.address,
        protocol=target.protocol,
        rate_hz=float(stream.driver.rate_hz),
        placement=placement,
        side=side,
        device_name=target.name,
        bonded=bonded,
        paired_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        mounting={"gravity": [round(float(x), 4) for x in gravity],
                  "captured_upright": placement in (None, "thigh")},
        device_info=dict(stream.device_info),
        driver_config={k: v for k, v in stream.driver.config().items() if v is not None},
        check={"measured_rate_hz": round(rate, 2), "loss_pct": round(stream.stats.loss_pct, 2),
               "malformed": stream.stats.malformed},
    )
    saved = save_profile(profile)
    print(f"mounting: gravity in sensor frame ({gravity[0]:+.2f}, {gravity[1]:+.2f}, "
          f"{gravity[2]:+.2f})")
    print(f"saved profile '{name}' to {saved}")
    print(f"use it with: repsense live --sensor {name}   or   repsense record {name} -o NAME")
    return profile
