"""edgekd's UDP datagrams are byte for byte what LibEMG sends, and LibEMG's parser reads them.

LibEMG itself cannot be installed next to edgekd (libemg 2.0.3 requires numpy<2), so the two
functions below are copies of its code, kept as close to the original as a function allows:

* ``libemg_write_output``: libemg 2.0.3, ``libemg/emg_predictor.py``,
  ``OnlineEMGClassifier.write_output`` lines 924-992 (rejection lines 931-933, velocity lines
  941-947, the message lines 984-989), with ``predictor.rejection`` and
  ``predictor.velocity`` on, and no majority vote (edgekd votes before sending);
* ``LibEmgClassifierParser``: libemg 2.0.3, ``libemg/environments/controllers.py``,
  ``ClassifierController`` lines 163-220 (``_parse_predictions``, ``_parse_timestamp``,
  ``_parse_proportional_control``, ``_parse_probabilities``).

tests/integration/test_libemg_udp.py runs the real ``ClassifierController`` where libemg is
importable.
"""

import numpy as np
import pytest

from edgekd.errors import ConfigError
from firmware_bridge.decision import Decision, DecisionPolicy
from firmware_bridge.sinks import UdpLibEmgSink, libemg_message


def libemg_write_output(prediction, probabilities, velocity_output, time_stamp, output_format,
                        rejection_threshold):
    """The message LibEMG builds (copy; see the module docstring). ``velocity_output`` stands
    for ``predictor._get_velocity``'s value before its ``'{0:.2f}'.format(min(1, max(v, 0)))``
    (emg_predictor.py lines 364-367)."""
    probability = [probabilities[0][prediction]]
    # rejection (lines 931-933 → _rejection_helper, lines 338-344)
    prediction = prediction if probability[0] > rejection_threshold else -1
    # velocity (lines 941-947)
    calculated_velocity = " 0"
    if prediction >= 0:
        calculated_velocity = " " + str('{0:.2f}'.format(min([1, max([velocity_output, 0])])))
    # message (lines 984-989)
    if output_format == "predictions":
        message = str(prediction) + calculated_velocity + '\n'
    elif output_format == "probabilities":
        message = ' '.join([f'{i:.2f}' for i in probabilities[0]]) + calculated_velocity + " " + str(time_stamp)
    return bytes(message, 'utf-8')


class LibEmgClassifierParser:
    """ClassifierController's parsing (copy; see the module docstring)."""

    def __init__(self, output_format, num_classes):
        self.output_format, self.num_classes = output_format, num_classes

    def _parse_predictions(self, action):
        if self.output_format == 'predictions':
            return [float(action.split(' ')[0])]
        elif self.output_format == 'probabilities':
            probabilities = self._parse_probabilities(action)
            return [float(np.argmax(probabilities))]

    def _parse_timestamp(self, action):
        if self.output_format == 'predictions':
            raise ValueError("Output format is set to 'predictions', so timestamp cannot be parsed")
        return float(action.split(' ')[-1])

    def _parse_proportional_control(self, action):
        components = action.split(' ')
        if self.output_format == 'predictions':
            return [float(components[1])]
        elif self.output_format == 'probabilities':
            if len(components) < (self.num_classes + 2):
                raise ValueError('Did not find velocity value in message.')
            return [float(components[-2])]

    def _parse_probabilities(self, action):
        return [float(prob) for prob in action.split(' ')[:self.num_classes]]


CASES = [  # probabilities, threshold: accepted, rejected, ties, a sure one, a flat one
    ([0.1, 0.7, 0.2], 0.5), ([0.4, 0.35, 0.25], 0.5), ([0.5, 0.5, 0.0], 0.0),
    ([0.0, 0.0, 1.0], 0.9), ([1 / 3, 1 / 3, 1 / 3], 0.0), ([0.05, 0.054, 0.896], 0.896),
]


@pytest.mark.parametrize("fmt", ["predictions", "probabilities"])
@pytest.mark.parametrize("probs,threshold", CASES)
def test_datagrams_are_byte_for_byte_libemgs(fmt, probs, threshold):
    p = np.array(probs, np.float32)
    d = DecisionPolicy(threshold).decide(100, p)
    now = 1761000000.123456
    ours = libemg_message(d, fmt, len(p), now)
    # LibEMG rejects below-or-equal the threshold, edgekd strictly below: compare like for like
    libemg_threshold = np.nextafter(np.float32(threshold), np.float32(-1)) if threshold else -1
    theirs = libemg_write_output(int(p.argmax()), p[None], float(p.max()), now, fmt,
                                 libemg_threshold)
    assert ours == theirs


@pytest.mark.parametrize("fmt", ["predictions", "probabilities"])
def test_libemgs_parser_gets_the_class_the_rejection_and_the_velocity(fmt):
    parse = LibEmgClassifierParser(fmt, 3)
    accepted = DecisionPolicy(0.5).decide(1, np.array([0.1, 0.7, 0.2], np.float32))
    rejected = DecisionPolicy(0.5).decide(2, np.array([0.4, 0.35, 0.25], np.float32))
    a = libemg_message(accepted, fmt, 3, 1761000000.5).decode()
    r = libemg_message(rejected, fmt, 3, 1761000000.5).decode()
    assert parse._parse_predictions(a) == [1.0]
    assert parse._parse_proportional_control(a) == [0.7]
    assert parse._parse_proportional_control(r) == [0.0]   # rejected: no movement
    if fmt == "predictions":
        assert parse._parse_predictions(r) == [-1.0]
        with pytest.raises(ValueError):   # LibEMG sends no timestamp in this format
            parse._parse_timestamp(a)
    else:
        assert parse._parse_probabilities(a) == [0.1, 0.7, 0.2]
        assert parse._parse_timestamp(a) == 1761000000.5
        assert parse._parse_predictions(r) == [0.0]   # LibEMG's own rule: probabilities stay


def test_device_decisions_without_probabilities_go_one_hot():
    d = Decision(5, 2, 0.8, 2, np.empty(0, np.float32), source="device")
    assert libemg_message(d, "probabilities", 4, 1.5) == b"0.00 0.00 1.00 0.00 0.80 1.5"
    rejected = Decision(5, None, 0.3, 1, np.empty(0, np.float32), source="device")
    assert libemg_message(rejected, "predictions", 4, 1.5) == b"-1 0\n"


def test_only_the_chosen_source_is_sent_and_bad_formats_are_refused():
    import socket
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(2)
    sink = UdpLibEmgSink(f"127.0.0.1:{listener.getsockname()[1]}", "host", "predictions", 2)
    sink(Decision(1, 1, 0.9, 1, np.array([0.1, 0.9]), source="device"))
    sink(Decision(2, None, 0.4, 0, np.array([0.4, 0.6])))
    assert listener.recv(100) == b"-1 0\n"
    sink.close()
    listener.close()
    with pytest.raises(ConfigError, match="--udp-format"):
        UdpLibEmgSink("127.0.0.1:9", fmt="json")
