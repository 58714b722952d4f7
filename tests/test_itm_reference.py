"""The ITM oracle (itm_oracle.py) itself, on the sample capture and hand-made streams."""

from __future__ import annotations

from itm_oracle import packet_at, reference_demux


def test_the_reference_reads_the_sample_capture(samples):
    out = reference_demux((samples / "capture.swo").read_bytes())
    assert bytes(out.payloads[31]) == (samples / "capture.port31").read_bytes()
    assert bytes(out.payloads[0]) == (samples / "capture.port0").read_bytes()
    assert (out.skipped, out.overflows, out.truncated) == (0, 0, 0)


def test_the_reference_resyncs_on_a_run_or_a_sync():
    writes = bytes([0x09, 0x04]) * 8  # eight 1-byte writes to port 1
    out = reference_demux(bytes([0x04]) + writes[:14] + bytes([0x04]) + writes)
    assert (bytes(out.payloads[1]), out.skipped, out.first_skip) == (bytes([4]) * 8, 16, 0)
    out = reference_demux(bytes([0x04, 0x09]) + bytes(5) + b"\x80" + writes[:2])
    assert (bytes(out.payloads[1]), out.skipped) == (bytes([4]), 2)


def test_the_reference_skips_an_over_long_packet_with_its_run():
    write = bytes([0xF9, 0x41])  # one byte to port 31
    for header, cap in ((0xC0, 4), (0x94, 4), (0xB4, 6), (0x8C, 4)):
        # As long as allowed: a packet. One more byte: refused, up to the 0x70.
        assert packet_at(bytes([header]) + b"\x81" * (cap - 1) + b"\x01", 0)[1] == cap + 1
        swo = bytes([header]) + b"\x81" * cap + b"\x82\x70" + write * 8
        assert packet_at(swo, 0) == ("overlong", cap + 3)
        out = reference_demux(swo)
        assert (bytes(out.payloads[31]), out.skipped, out.overflows) == (b"A" * 8, cap + 3, 0)
        # Met while looking for a resync point after a reserved byte: the same.
        out = reference_demux(b"\x04" + swo)
        assert (bytes(out.payloads[31]), out.skipped) == (b"A" * 8, cap + 4)
