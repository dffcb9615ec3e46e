"""Values the daemon cannot run with are found by ``load`` (and so by ``chargebox check-config``),
each as ``file: key: what was expected``, before ``chargebox run`` would stop at them (issue 14.4).

A device table's values are checked by constructing its backend once without opening it: the
backend's constructor is where its ranges live (DESIGN.md, style 1), so the check cannot drift
from what ``run`` does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chargebox.config import load
from chargebox.errors import ConfigError
from tests.chargebox.site_samples import site_config

METER = 'port = 1502\n'
RELAY = '[connector.relay]\nbackend = "sim"\naddress = "127.0.0.1:7701"\n'


def write(tmp_path: Path, text: str = "", *, meter: str = "", relay: str = "") -> Path:
    """The sample site, with lines added to its meter table, its relay table replaced, and tables appended."""
    config = site_config().replace(METER, METER + meter)
    if relay:
        config = config.replace(RELAY, relay)
    path = tmp_path / "box.toml"
    path.write_text(config + text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return str(caught.value).splitlines()


@pytest.mark.parametrize(("meter", "expected"), [
    ("device_id = 300", "connector[1].meter.device_id: expected 1..255, got 300"),
    ("device_id = 0", "connector[1].meter.device_id: expected 1..255, got 0"),
    ("timeout = -3", "connector[1].meter.timeout: must be > 0 seconds, got -3"),
    ("fault_after = 0", "connector[1].meter.fault_after: must be >= 1 failed reads, got 0"),
    ("max_power_w = 0", "connector[1].meter.max_power_w: must be > 0, got 0"),
])
def test_a_meter_value_out_of_range(tmp_path: Path, meter: str, expected: str) -> None:
    path = write(tmp_path, meter=meter + "\n")
    found = problems(path)
    assert len(found) == 1 and found[0].startswith(f"{path}: {expected}"), found


def test_the_meter_port(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace("port = 1502", "port = 70000"))
    assert problems(path) == [f"{path}: connector[1].meter.port: expected 1..65535, got 70000"]


@pytest.mark.parametrize(("table", "expected"), [
    ('[reader]\nbackend = "hexline"\nport = "/dev/ttyUSB0"\nhold_window = -1\n',
     "reader.hold_window: must be >= 0 seconds, got -1"),
    ('[reader]\nbackend = "rdm6300"\nport = "/dev/ttyUSB0"\nreopen_interval = 0\n',
     "reader.reopen_interval: must be > 0 seconds, got 0"),
    ('[reader]\nbackend = "pn532"\nport = "/dev/ttyS0"\npoll_interval = 1.5\n',
     "reader.poll_interval: (1.5 s) must be shorter than hold_window (1.0 s)"),
    ('[reader]\nbackend = "pn532"\nport = "/dev/ttyS0"\nmax_silent = 0\n', "reader.max_silent: must be >= 1, got 0"),
    ('[modem]\nbackend = "at"\nport = "/dev/ttyUSB2"\nweak_signal_dbm = -200\n',
     "modem.weak_signal_dbm: must be between -113 and -51 dBm"),
    ('[modem]\nbackend = "at"\nport = "/dev/ttyUSB2"\ntimeout = 0\n', "modem.timeout: must be > 0 seconds, got 0"),
])
def test_a_reader_or_modem_value_out_of_range(tmp_path: Path, table: str, expected: str) -> None:
    path = write(tmp_path, table)
    found = problems(path)
    assert len(found) == 1 and found[0].startswith(f"{path}: {expected}"), found


@pytest.mark.parametrize(("relay", "expected"), [
    ('[connector.relay]\nbackend = "gpiod"\npin = "gpiochip0:17"\ndebounce = 2\n',
     "connector[1].relay.debounce: expected 0..1 seconds, got 2"),
    ('[connector.relay]\nbackend = "sim"\naddress = "simulator"\n',
     "connector[1].relay.address: 'simulator' is not host:port"),
])
def test_a_relay_value(tmp_path: Path, relay: str, expected: str) -> None:
    path = write(tmp_path, relay=relay)
    assert problems(path) == [f"{path}: {expected}"]


def test_a_sysfs_pilot_value(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace(
        '[connector.pilot]\nbackend = "sim"\naddress = "127.0.0.1:7701"\n',
        '[connector.pilot]\nbackend = "sysfs"\nadc_path = "/sys/bus/iio/devices/iio:device0/in_voltage0_raw"\n'
        'adc_scale = 0.01\nsample_interval = 5\nhysteresis = 2\n'))
    assert problems(path) == [f"{path}: connector[1].pilot.sample_interval: expected 0.001..1 seconds, got 5"]


SECOND = '''
[[connector]]
id = 2

[connector.meter]
backend = "modbus"
model = "sdm630"
host = "127.0.0.1"
port = 1503
device_id = 0

[connector.pilot]
backend = "sim"
address = "127.0.0.1:7701"

'''


def test_connectors_are_named_as_counted_from_one(tmp_path: Path) -> None:
    """The second [[connector]] table is connector[2], as its id and the reader count it."""
    path = write(tmp_path, SECOND + RELAY)
    assert problems(path) == [f"{path}: connector[2].meter.device_id: expected 1..255, got 0"]


@pytest.mark.parametrize(("relay", "second_relay", "expected"), [
    ('[connector.relay]\nbackend = "gpiod"\npin = "gpiochip0:17"\n',
     '[connector.relay]\nbackend = "gpiod"\npin = "gpiochip0:17:active-low"\n',
     "connector[2].relay.pin: GPIO line 'gpiochip0:17:active-low' is already used by connector[1].relay.pin; "
     "expected one of its own"),
    ('[connector.relay]\nbackend = "rpigpio"\npin = "17"\nfeedback_pin = "27"\n',
     '[connector.relay]\nbackend = "rpigpio"\npin = "22"\nfeedback_pin = "27"\n',
     "connector[2].relay.feedback_pin: GPIO line '27' is already used by "
     "connector[1].relay.feedback_pin; expected one of its own"),
])
def test_two_devices_on_one_gpio_line(tmp_path: Path, relay: str, second_relay: str, expected: str) -> None:
    second = SECOND.replace("device_id = 0\n", "")
    path = write(tmp_path, second + second_relay, relay=relay)
    assert problems(path) == [f"{path}: {expected}"]


def test_two_connectors_on_one_meter(tmp_path: Path) -> None:
    path = write(tmp_path, SECOND.replace("port = 1503\ndevice_id = 0", "port = 1502") + RELAY)
    assert problems(path) == [f"{path}: connector[2].meter: the meter at 127.0.0.1:1502 unit 1 is already used by "
                              "connector[1].meter; expected one of its own"]


def test_meters_on_one_rtu_line_each_at_its_unit(tmp_path: Path) -> None:
    rtu = 'serial_port = "/dev/ttyUSB1"\ndevice_id = {}\n'
    path = write(tmp_path, SECOND.replace('host = "127.0.0.1"\nport = 1503\ndevice_id = 0\n', rtu.format(2)) + RELAY)
    path.write_text(path.read_text().replace('host = "127.0.0.1"\nport = 1502\n', rtu.format(1), 1))
    assert [c.meter.options["device_id"] for c in load(path).connectors] == [1, 2]
    path.write_text(path.read_text().replace("device_id = 2", "device_id = 1"))
    assert problems(path) == [f"{path}: connector[2].meter: the meter at /dev/ttyUSB1 unit 1 is already used by "
                              "connector[1].meter; expected one of its own"]


def test_a_reader_on_the_modems_port(tmp_path: Path) -> None:
    path = write(tmp_path, '[reader]\nbackend = "hexline"\nport = "/dev/ttyUSB2"\n'
                           '[modem]\nbackend = "at"\nport = "/dev/ttyUSB2"\n')
    assert problems(path) == [f"{path}: reader.port: serial port '/dev/ttyUSB2' is already used by modem.port; "
                              "expected one of its own"]


def test_one_line_for_a_relay_and_its_own_feedback(tmp_path: Path) -> None:
    path = write(tmp_path, relay='[connector.relay]\nbackend = "gpiod"\npin = "gpiochip0:5"\n'
                                 'feedback_pin = "gpiochip0:5"\n')
    assert problems(path) == [f"{path}: connector[1].relay.feedback_pin: GPIO line 'gpiochip0:5' is already used "
                              "by connector[1].relay.pin; expected one of its own"]


def test_a_lock_on_the_relays_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[connector.lock]\nbackend = "gpiod"\nlock_pin = "gpiochip0:6"\n',
                 relay='[connector.relay]\nbackend = "gpiod"\npin = "gpiochip0:6"\n')
    assert problems(path) == [f"{path}: connector[1].lock.lock_pin: GPIO line 'gpiochip0:6' is already used by "
                              "connector[1].relay.pin; expected one of its own"]


def test_the_same_line_number_on_two_chips_is_two_lines(tmp_path: Path) -> None:
    path = write(tmp_path, '[connector.lock]\nbackend = "gpiod"\nlock_pin = "gpiochip1:6"\n',
                 relay='[connector.relay]\nbackend = "gpiod"\npin = "gpiochip0:6"\n')
    assert load(path).connectors[0].lock is not None


@pytest.mark.parametrize("level", ["info", "INFO", "Warning", "debug"])
def test_the_log_level_in_any_case(tmp_path: Path, level: str) -> None:
    assert load(write(tmp_path, f'[log]\nlevel = "{level}"\n')).log_level == level.upper()


def test_an_unknown_log_level(tmp_path: Path) -> None:
    path = write(tmp_path, '[log]\nlevel = "verbose"\n')
    assert problems(path) == [f"{path}: log.level: expected DEBUG, INFO, WARNING or ERROR (any case), got 'verbose'"]


def test_storage_in_a_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("")
    path = write(tmp_path)
    path.write_text(path.read_text().replace('path = "box.db"', 'path = "state/box.db"'))
    assert problems(path) == [f"{path}: storage.path: cannot create the folder {tmp_path / 'state'}: "
                              f"{tmp_path / 'state'} is a file"]


def test_storage_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "box.db").mkdir()
    path = write(tmp_path)
    assert problems(path) == [f"{path}: storage.path: {tmp_path / 'box.db'} is a folder; expected the database "
                              f"file in it, like {tmp_path / 'box.db'}/chargebox.db"]


def test_storage_in_folders_still_to_be_made(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace('path = "box.db"', 'path = "var/lib/box.db"'))
    assert load(path).storage == tmp_path / "var" / "lib" / "box.db"


@pytest.mark.parametrize(("value", "expected"), [
    ("0", "expected a number of messages > 0, got 0"),
    ('"many"', "expected an integer (a number of messages > 0), got 'many'"),
])
def test_an_outbox_limit_that_bounds_nothing(tmp_path: Path, value: str, expected: str) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace('path = "box.db"', f'path = "box.db"\noutbox_limit = {value}'))
    assert problems(path) == [f"{path}: storage.outbox_limit: {expected}"]


def test_the_outbox_limit_is_ten_thousand_messages_unless_set(tmp_path: Path) -> None:
    path = write(tmp_path)
    assert load(path).outbox_limit == 10_000
    path.write_text(path.read_text().replace('path = "box.db"', 'path = "box.db"\noutbox_limit = 500'))
    assert load(path).outbox_limit == 500


@pytest.mark.parametrize(("table", "key", "value"), [
    ("endpoint", "port", "0"), ("endpoint", "port", "65536"), ("endpoint", "max_body", "10"),
    ("endpoint", "read_timeout", "0"), ("central_system", "timeout", "0"), ("central_system", "connect_timeout", "-1"),
    ("central_system", "compress_threshold", "-1"), ("central_system", "compression", '"brotli"'),
])
def test_every_transport_number_and_choice_has_its_range(tmp_path: Path, table: str, key: str, value: str) -> None:
    path = write(tmp_path)
    text = path.read_text().replace(f"[{table}]\n", f"[{table}]\n{key} = {value}\n", 1)
    path.write_text(text)
    found = problems(path)
    assert len(found) == 1 and found[0].startswith(f"{path}: {table}.{key}: expected "), found


@pytest.mark.parametrize(("text", "key"), [
    ("[firmware]\ninstall_timeout = 0\n", "firmware.install_timeout"), ("[firmware]\nmax_size = 0\n", "firmware.max_size"),
    ('[firmware]\nafter_install = "halt"\n', "firmware.after_install"), ("[firmware]\nretries = -1\n", "firmware.retries"),
    ("[diagnostics]\ntransactions = -1\n", "diagnostics.transactions"),
    ("[diagnostics]\nretry_interval = -1\n", "diagnostics.retry_interval"),
    ("[diagnostics]\ntimeout = 0\n", "diagnostics.timeout"),
    ("[ocpp]\nHeartBeatInterval = 0\n", "ocpp.HeartBeatInterval"),
])
def test_every_other_number_and_choice_has_its_range(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    found = problems(path)
    assert len(found) == 1 and found[0].startswith(f"{path}: {key}: expected "), found


def test_an_array_entry_is_named_as_counted_from_one(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace("[endpoint]\n", '[endpoint]\nallow = ["10.0.0.0/8", "nonsense"]\n', 1))
    assert problems(path) == [f"{path}: endpoint.allow[2]: expected an address or network like 10.0.0.0/8, "
                              "got 'nonsense'"]


TCP_METER = 'host = "127.0.0.1"\nport = 1502\n'
SIM_PILOT = '[connector.pilot]\nbackend = "sim"\naddress = "127.0.0.1:7701"\n'
SYSFS_PILOT = ('[connector.pilot]\nbackend = "sysfs"\n'
               'adc_path = "/sys/bus/iio/devices/iio:device0/in_voltage0_raw"\n')


DEVICE_VALUES = [
    ("", '[reader]\nbackend = "hexline"\nport = "/dev/ttyUSB0"\nbaudrate = 0\n',
     "reader.baudrate: expected a standard baud rate (50, "),
    ("", '[reader]\nbackend = "pn532"\nport = "/dev/ttyS0"\nbaudrate = 11520\n',
     "reader.baudrate: expected a standard baud rate (50, "),
    ("", '[reader]\nbackend = "hexline"\nport = "/dev/ttyUSB0"\nhold_window = nan\n',
     "reader.hold_window: must be >= 0 seconds, got nan"),
    ("", '[modem]\nbackend = "at"\nport = "/dev/ttyUSB2"\nbaudrate = -115200\n',
     "modem.baudrate: expected a standard baud rate (50, "),
    (TCP_METER, 'serial_port = "/dev/ttyUSB1"\nbaudrate = 0\n',
     "connector[1].meter.baudrate: expected a standard baud rate (50, "),
    (SIM_PILOT, SYSFS_PILOT + "adc_scale = 0.01\npwm_chip = -1\n",
     "connector[1].pilot.pwm_chip: expected >= 0, got -1"),
    (SIM_PILOT, SYSFS_PILOT + "adc_scale = 0.01\npwm_channel = -1\n",
     "connector[1].pilot.pwm_channel: expected >= 0, got -1"),
    (SIM_PILOT, SYSFS_PILOT + "adc_scale = nan\n",
     "connector[1].pilot.adc_scale: expected a finite number other than 0, got nan"),
    (SIM_PILOT, '[connector.pilot]\nbackend = "sim"\naddress = "127.0.0.1:99999"\n',
     "connector[1].pilot.address: expected a port 1..65535 after the colon, got '127.0.0.1:99999'"),
    ("", "feedback_timeout = 0\n", "connector[1].relay.feedback_timeout: must be > 0 seconds, got 0"),
    ("", '[connector.lock]\nbackend = "sim"\naddress = "127.0.0.1:7701"\nfeedback_timeout = -1\n',
     "connector[1].lock.feedback_timeout: must be > 0 seconds, got -1"),
]


@pytest.mark.parametrize(("old", "new", "expected"), DEVICE_VALUES,
                         ids=[f"{key.partition(':')[0]}-{n}" for n, (_, _, key) in enumerate(DEVICE_VALUES)])
def test_a_device_value_the_run_would_fail_at(tmp_path: Path, old: str, new: str, expected: str) -> None:
    """Each device value ``run`` cannot work with is one line naming its key (lines appended where
    ``old`` is empty: after the [connector.relay] table, the sample's last)."""
    path = write(tmp_path)
    text = path.read_text()
    path.write_text(text.replace(old, new, 1) if old else text + new)
    found = problems(path)
    assert len(found) == 1 and found[0].startswith(f"{path}: {expected}"), found
