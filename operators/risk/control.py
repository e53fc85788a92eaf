"""Decode kill-switch messages from the Kafka ``control`` topic.

A control message is JSON such as ``{"command": "halt", "reason": "desk kill switch"}``
(``halt`` | ``reduce`` | ``resume``, optional ``ts_ns``, ``reason``, ``issued_by``).
Anything else becomes a ``Reject`` (stage ``control``), never a crash.

>>> from operators.messages import SourceRecord
>>> decode_control(SourceRecord("control", 0, 3, None, b'{"command":"halt","reason":"test"}'))
ControlCommand(command='halt', ts_ns=0, reason='test', issued_by='')
>>> decode_control(SourceRecord("control", 0, 4, None, b'{"command":"buy"}')).reason
'invalid_control'
"""

from __future__ import annotations

import msgspec

from operators.messages import ControlCommand, Reject, SourceRecord, reject

__all__ = ["decode_control"]

_DECODER = msgspec.json.Decoder(ControlCommand)


def decode_control(record: SourceRecord) -> ControlCommand | Reject:
    raw = record.value or b""
    try:
        return _DECODER.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        return reject("control", record, "invalid_control", f"expected a command halt|reduce|resume, got: {error}",
                      raw=raw)
