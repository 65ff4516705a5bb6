"""Username/password and TLS against real Mosquitto listeners; secrets never shown."""

from __future__ import annotations

import pytest

from repsense.testing.broker import BrokerAuth, BrokerTLS, MessageCollector
from repsense.testing.pki import make_test_pki

from .helpers import events_by_id, run_main

PASSWORD = "c0rrect-h0rse"


@pytest.fixture
def auth_broker(mosquitto_factory):
    return mosquitto_factory(auth=BrokerAuth({"gym": PASSWORD, "watcher": "w"}))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki"))


def test_password_from_the_environment_not_the_command_line(auth_broker, recording, capsys,
                                                             monkeypatch, validate):
    sub = MessageCollector(auth_broker.url_for("watcher", "w"), ["repsense/#"]).start()
    monkeypatch.setenv("REPSENSE_MQTT_PASSWORD", PASSWORD)
    rc, out, err = run_main(["replay", str(recording), "--speed", "0", "--sensor-id", "auth",
                             "--mqtt", auth_broker.url_for("gym")], capsys)
    assert rc == 0, err
    assert PASSWORD not in out + err and "visible" not in err
    msgs = sub.wait_for(lambda m: any(d["type"] == "session_end"
                                      for d in events_by_id(m).values()))
    validate(msgs)
    sub.stop()


def test_password_in_the_url_works_but_is_never_printed(auth_broker, recording, capsys):
    rc, out, err = run_main(["replay", str(recording), "--speed", "0", "--sensor-id", "auth2",
                             "--mqtt", auth_broker.url_for("gym", PASSWORD)], capsys)
    assert rc == 0, err
    assert PASSWORD not in out + err
    assert "visible to other users" in err  # a nudge towards REPSENSE_MQTT_PASSWORD
    assert "delivered" in err


def test_wrong_password_is_one_line_not_a_traceback(auth_broker, recording, capsys):
    rc, out, err = run_main(["replay", str(recording), "--speed", "0", "--sensor-id", "auth3",
                             "--mqtt", auth_broker.url_for("gym", "wrong-pw"),
                             "--mqtt-flush-timeout", "0.5"], capsys)
    assert rc == 0, err  # the replay itself carries on
    refused = [ln for ln in err.splitlines() if "refused the connection" in ln]
    assert len(refused) == 1
    # Mosquitto 2 answers "Not authorized" to MQTT 5 clients, others "Bad user name or password"
    assert "authorized" in refused[0] or "Bad user name" in refused[0]
    assert "password" in refused[0] and "wrong-pw" not in err
    assert "session over" in out


def test_tls_with_a_generated_ca_and_client_certificate(mosquitto_factory, pki, make_sink,
                                                        pipeline_events, validate):
    broker = mosquitto_factory(tls=BrokerTLS(pki.ca_cert, pki.server_cert, pki.server_key,
                                             require_certificate=True))
    assert broker.url.startswith("mqtts://")
    sub = MessageCollector(broker.url, ["repsense/#"], cafile=pki.ca_cert,
                           certfile=pki.client_cert, keyfile=pki.client_key).start()
    sink = make_sink(broker.url, broker_kwargs={"ca_file": pki.ca_cert,
                                                "cert_file": pki.client_cert,
                                                "key_file": pki.client_key})
    assert sink.connected.wait(5)
    for ev in pipeline_events:
        sink.handle(ev)
    assert sink.close(5.0).pending == 0
    msgs = sub.wait_for(lambda m: any(d["type"] == "session_end"
                                      for d in events_by_id(m).values()))
    validate(msgs)
    sub.stop()


def test_untrusted_server_certificate_is_one_clear_line(mosquitto_factory, pki, recording,
                                                        capsys):
    broker = mosquitto_factory(tls=BrokerTLS(pki.ca_cert, pki.server_cert, pki.server_key))
    rc, _out, err = run_main(["replay", str(recording), "--speed", "0", "--sensor-id", "tls",
                              "--mqtt", broker.url, "--mqtt-ca", str(pki.other_ca_cert),
                              "--mqtt-flush-timeout", "0.5"], capsys)
    assert rc == 0, err
    lines = [ln for ln in err.splitlines() if "TLS" in ln]
    assert len(lines) == 1 and "--mqtt-ca" in lines[0]
    # ...and with the right CA it connects and delivers what the first run kept.
    rc, _out, err = run_main(["replay", str(recording), "--speed", "0", "--sensor-id", "tls",
                              "--mqtt", broker.url, "--mqtt-ca", str(pki.ca_cert)], capsys)
    assert rc == 0 and "earlier run" in err and "delivered" in err, err
