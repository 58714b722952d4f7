"""The SWO pin between the simulated TPIU and the probe's UART receiver.

When the TPIU sends NRZ at the baud rate the probe listens at (within the 3%
a UART tolerates), the probe receives the bytes as sent. Otherwise the probe
samples the line waveform at its own rate and gets what a real receiver gets:
bytes with no relation to the trace. The TPIU formatter, if left on, wraps
the trace in 16-byte frames first.
"""

from __future__ import annotations

import logging

import numpy as np

from heapgui.capture.simulator.coresight import Tpiu

logger = logging.getLogger(__name__)

BAUD_TOLERANCE = 0.03
FRAME_DATA = 14  # data bytes per formatter frame when every frame starts with an ID


def swo_baud(core_clock: float, acpr: int) -> float:
    """The TPIU's SWO bit rate: the trace clock divided by ACPR + 1."""
    return core_clock / (acpr + 1)


def receive(data: bytes, tpiu: Tpiu, trace_id: int, core_clock: float, rx_baud: float) -> bytes:
    """What a UART receiver at `rx_baud` reads while the TPIU sends `data`."""
    if not data:
        return b""
    if tpiu.formatter_on:
        data = formatter_frames(data, trace_id)
    baud = swo_baud(core_clock, tpiu.acpr)
    if tpiu.sppr == Tpiu.SPPR_NRZ:
        if abs(rx_baud / baud - 1) <= BAUD_TOLERANCE:
            return data
        return uart_sample(nrz_levels(data), baud, rx_baud)
    # Manchester: two half-bit levels per bit, no start or stop bits for a UART to find.
    return uart_sample(manchester_levels(data), 2 * baud, rx_baud)


def nrz_levels(data: bytes) -> np.ndarray:
    """Line levels, one per bit: start bit 0, eight data bits LSB first, stop bit 1."""
    bits = np.unpackbits(np.frombuffer(data, np.uint8)[:, None], axis=1, bitorder="little")
    frame = np.concatenate(
        [np.zeros((len(data), 1), np.uint8), bits, np.ones((len(data), 1), np.uint8)], axis=1
    )
    return frame.ravel()


def manchester_levels(data: bytes) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
    return np.stack([bits, 1 - bits], axis=1).ravel()


def uart_sample(levels: np.ndarray, line_rate: float, rx_baud: float) -> bytes:
    """Bytes a UART at `rx_baud` reads from `levels` sent at `line_rate` levels per second.

    The receiver is taken to frame back to back (start bit right after the
    previous stop bit) rather than hunting for each falling edge: the bytes
    are as meaningless either way, and this keeps the sampling one array step.
    """
    frames = int(len(levels) / line_rate * rx_baud / 10)
    slots = np.arange(1, 9) + 0.5  # centres of the eight data bits
    times = (10 * np.arange(frames)[:, None] + slots) / rx_baud
    index = np.minimum((times * line_rate).astype(np.int64), len(levels) - 1)
    return np.packbits(levels[index], axis=1, bitorder="little").ravel().tobytes()


def formatter_frames(data: bytes, trace_id: int) -> bytes:
    """CoreSight formatter frames: an ID change, then 14 data bytes, LSBs of even bytes in byte 15.

    A real formatter only repeats the ID when it changes; opening every frame
    with it is also valid and keeps frames independent. The last frame is
    padded with zeros.
    """
    count = -(-len(data) // FRAME_DATA)
    payload = np.zeros(count * FRAME_DATA, np.uint8)
    payload[: len(data)] = np.frombuffer(data, np.uint8)
    payload = payload.reshape(count, FRAME_DATA)
    frames = np.zeros((count, 16), np.uint8)
    frames[:, 0] = (trace_id << 1 | 1) & 0xFF
    frames[:, 1:15] = payload
    # Even positions 2..14 lose their LSB to the flag bit; it moves to byte 15.
    even = np.arange(2, 15, 2)
    lsb = payload[:, even - 1] & 1
    frames[:, even] &= 0xFE
    frames[:, 15] = (lsb << (even // 2)).sum(axis=1).astype(np.uint8)
    return frames.tobytes()
