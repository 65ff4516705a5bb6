"""Reconnection backoff and giving up, against a virtual sensor that goes away."""

from __future__ import annotations

import asyncio

import pytest

from repsense.ble.errors import BleError
from repsense.ble.stream import LinkEvent, Samples, SensorStream
from repsense.ble.virtual_sensor import Faults, VirtualSensor


@pytest.mark.timeout(30)
def test_backoff_doubles_then_the_stream_gives_up_with_one_line() -> None:
    async def scenario() -> tuple[list[LinkEvent], int, BleError | None]:
        # Drops the link after 0.5 s of streaming and stays away "for ever".
        sensor = VirtualSensor("repsense", None, speed=4, faults=Faults(drop_at_s=[0.5],
                                                                      down_s=1e6))
        events: list[LinkEvent] = []
        samples = 0
        error = None
        async with sensor:
            stream = SensorStream(sensor.address, backend="virtual", protocol="repsense",
                                  backoff_s=(0.02, 0.08), reconnect_timeout_s=0.6,
                                  connect_timeout_s=0.05)
            await stream.start()
            try:
                async for item in stream:
                    if isinstance(item, LinkEvent):
                        events.append(item)
                    elif isinstance(item, Samples):
                        samples += len(item.chunk)
            except BleError as exc:
                error = exc
            finally:
                await stream.close()
        return events, samples, error

    events, samples, error = asyncio.run(scenario())
    states = [e.state for e in events]
    assert states[:3] == ["connected", "disconnected", "reconnecting"]
    delays = [e.delay_s for e in events if e.state == "reconnecting"]
    assert delays[:4] == [0.02, 0.04, 0.08, 0.08]  # doubling, capped
    assert [e.attempt for e in events if e.state == "reconnecting"][:3] == [1, 2, 3]
    assert samples > 0
    assert error is not None and "could not reconnect" in str(error)
    assert "\n" not in str(error)


@pytest.mark.timeout(30)
def test_close_while_reconnecting_ends_cleanly() -> None:
    async def scenario() -> list[str]:
        sensor = VirtualSensor("witmotion", None, speed=4, faults=Faults(drop_at_s=[0.3],
                                                                       down_s=1e6))
        states: list[str] = []
        async with sensor:
            stream = SensorStream(sensor.address, backend="virtual", protocol="witmotion",
                                  backoff_s=(0.05, 0.05), reconnect_timeout_s=None)
            await stream.start()

            async def close_later() -> None:
                while stream.stats.reconnects == 0 and "reconnecting" not in states:
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.2)
                await stream.close()

            task = asyncio.create_task(close_later())
            async for item in stream:
                if isinstance(item, LinkEvent):
                    states.append(item.state)
            await task
        return states

    states = asyncio.run(scenario())
    assert states[0] == "connected" and "reconnecting" in states and states[-1] == "closed"


@pytest.mark.timeout(30)
def test_a_rejected_configuration_is_one_clear_error() -> None:
    from repsense.ble.profiles import SensorProfile

    # The profile says Polar H10 at 50 Hz, but the device is a Verity Sense,
    # which has no 50 Hz rate and answers the start request with an error.
    profile = SensorProfile(name="chest", address="C0:00:00:00:00:41", protocol="polar_pmd",
                            rate_hz=50.0, driver_config={"variant": "h10"})

    async def scenario() -> None:
        async with VirtualSensor("polar_pmd", None, speed=4, address="C0:00:00:00:00:41",
                                 variant="verity_sense"):
            stream = SensorStream(profile, backend="virtual")
            with pytest.raises(BleError, match="rejected the configuration"):
                await stream.start()
            await stream.close()

    asyncio.run(scenario())


@pytest.mark.timeout(30)
def test_battery_level_is_read_and_followed() -> None:
    from repsense.ble.stream import BatteryLevel

    async def scenario() -> tuple[list[int], list[str]]:
        levels: list[int] = []
        raw: list[str] = []
        async with VirtualSensor("thingy52", None, speed=4) as sensor:
            stream = SensorStream(sensor.address, backend="virtual",
                                  on_notification=lambda _t, char, _d: raw.append(char))
            await stream.start()

            async def drain() -> None:
                await sensor.playing.wait()
                await sensor.set_battery(41)
                await asyncio.sleep(0.1)
                await stream.close()

            task = asyncio.create_task(drain())
            async for item in stream:
                if isinstance(item, BatteryLevel):
                    levels.append(item.percent)
            await task
        return levels, raw

    levels, raw = asyncio.run(scenario())
    assert levels[0] > 41 and levels[-1] == 41
    assert "00002a19-0000-1000-8000-00805f9b34fb" in raw  # recorded like every notification
