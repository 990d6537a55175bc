"""The WebM duration writer (static/js/webm_duration.js) on hand-made EBML, in node: MediaRecorder
leaves the Segment's Info without a Duration (players then see Infinity and cannot seek); the
writer adds one in TimecodeScale ticks, grows a known Segment size, and leaves alone a file it
must not change (a SeekHead, a Duration already). The browser test records a real one."""

from __future__ import annotations

from js_modules import run_js

# EBML header (1A45DFA3, 4 bytes of DocType-less data), a Segment, Info holding TimecodeScale
# (`scale`), a Cluster of 3 bytes; `segment_size`: "unknown" (01 FF..FF) or the data's length
BUILD = """
  const vint8 = (n) => {
    const out = [1];
    for (let k = 6; k >= 0; k--) out.push(Math.floor(n / 256 ** k) % 256);
    return out;
  };
  const build = ({ scale, known = false, extra = [] }) => {
    const scaleBytes = [0x2a, 0xd7, 0xb1, 0x83, (scale >> 16) & 255, (scale >> 8) & 255,
                        scale & 255];
    const info = [0x15, 0x49, 0xa9, 0x66, 0x80 + scaleBytes.length + extra.length,
                  ...scaleBytes, ...extra];
    const cluster = [0x1f, 0x43, 0xb6, 0x75, 0x83, 1, 2, 3];
    const data = [...info, ...cluster];
    const size = known ? vint8(data.length) : [1, 255, 255, 255, 255, 255, 255, 255];
    return new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x84, 0x42, 0x86, 0x81, 0x01,
                           0x18, 0x53, 0x80, 0x67, ...size, ...data]);
  };
  const { findInfo, patchHead, withDuration } = await importModule('/static/js/webm_duration.js');
"""


def test_the_duration_is_written_into_info_in_timecode_ticks():
    answer = run_js(BUILD + """
      const bytes = build({ scale: 1000000 });
      const { head, infoEnd } = patchHead(bytes, 1500);
      const out = new Uint8Array([...head, ...bytes.subarray(infoEnd)]);
      const found = findInfo(out);
      const at = found.info.end - 8;
      return { hasDuration: found.hasDuration, scale: found.scale,
               value: new DataView(out.buffer).getFloat64(at),
               tail: [...out.subarray(out.length - 8)], grown: out.length - bytes.length };
    """)
    assert answer["hasDuration"] and answer["scale"] == 1_000_000
    assert answer["value"] == 1500.0  # ms at 1 ms a tick
    assert answer["tail"] == [0x1F, 0x43, 0xB6, 0x75, 0x83, 1, 2, 3]  # the clusters follow intact
    assert answer["grown"] == 11 + 7  # Duration (11 bytes), Info's size now an 8-byte vint


def test_another_timecode_scale_and_a_known_segment_size():
    answer = run_js(BUILD + """
      const bytes = build({ scale: 500000, known: true });
      const { head, infoEnd } = patchHead(bytes, 1000);
      const out = new Uint8Array([...head, ...bytes.subarray(infoEnd)]);
      const found = findInfo(out);
      const segmentData = out.length - found.segment.dataStart;
      return { value: new DataView(out.buffer).getFloat64(found.info.end - 8),
               segmentEnd: found.segment.end, length: out.length, segmentData };
    """)
    assert answer["value"] == 2000.0  # 1000 ms in ticks of 0.5 ms
    assert answer["segmentEnd"] == answer["length"]  # the grown Segment still ends at the end


def test_files_it_must_not_change_come_back_unchanged():
    answer = run_js(BUILD + """
      const withOne = build({ scale: 1000000, extra: [0x44, 0x89, 0x84, 0x44, 0x7a, 0, 0] });
      const seekHead = build({ scale: 1000000 });
      // a SeekHead before Info: byte positions that a grown Info would break
      const withSeek = new Uint8Array([...seekHead.subarray(0, 21), 0x11, 0x4d, 0x9b, 0x74, 0x80,
                                       ...seekHead.subarray(21)]);
      const blob = new Blob([withOne]);
      return [patchHead(withOne, 1000), patchHead(withSeek, 1000),
              patchHead(new Uint8Array([1, 2, 3]), 1000), patchHead(seekHead, 0),
              (await withDuration(blob, 1000)) === blob];
    """)
    assert answer == [None, None, None, None, True]
