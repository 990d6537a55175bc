// A WebM's duration, written after recording. MediaRecorder streams its WebM as it records, so
// it never knows the length: the Segment's Info has no Duration element, browsers report the
// video's `duration` as Infinity and players cannot seek. `withDuration` adds the element.
//
// WebM is EBML (Matroska): elements of [ID][size][data], ID and size as variable-length
// integers ("vints": the count of leading zero bits of the first byte + 1 gives the length;
// a size of all ones means "unknown"). What MediaRecorder (Chromium, Firefox) writes:
//
//   EBML header (1A45DFA3) · Segment (18538067, size usually unknown)
//     Info (1549A966): TimecodeScale (2AD7B1, ns per tick; 1 ms by default), MuxingApp, WritingApp
//     Tracks (1654AE6B) · Cluster (1F43B675) · Cluster · ...
//
// We rewrite Info with a Duration (4489, a float64 count of TimecodeScale ticks) appended. Info
// grows, so everything after it moves: nothing in such a file points at byte positions (no
// SeekHead, no Cues) and the Segment's size is unknown (else grown by as much). A file with a
// SeekHead, a Duration already, or a shape we do not know is returned unchanged.

const ID = { segment: 0x18538067, info: 0x1549a966, seekHead: 0x114d9b74, cluster: 0x1f43b675,
  timecodeScale: 0x2ad7b1, duration: 0x4489 };
const HEAD_BYTES = 64 * 1024; // Info sits within the first few hundred bytes

/** The vint at `at`: {length, value (marker bit removed), raw (kept, for IDs), unknown}. */
function readVint(bytes, at) {
  const first = bytes[at];
  if (first === undefined || first === 0) return null; // more than 8 bytes: not ours to read
  const length = Math.clz32(first) - 23; // 1 for 0b1xxxxxxx ... 8 for 0b00000001
  if (at + length > bytes.length) return null;
  let value = first & (0xff >> length);
  let raw = first;
  let allOnes = value === 0xff >> length;
  for (let k = 1; k < length; k++) {
    value = value * 256 + bytes[at + k]; // Number: exact up to 2^53, ample for these files
    raw = raw * 256 + bytes[at + k];
    allOnes = allOnes && bytes[at + k] === 0xff;
  }
  return { length, value, raw, unknown: allOnes };
}

/** The element at `at`: {id, start, dataStart, end (null when its size is unknown)}. */
function readElement(bytes, at) {
  const id = readVint(bytes, at);
  const size = id && readVint(bytes, at + id.length);
  if (!size) return null;
  const dataStart = at + id.length + size.length;
  return { id: id.raw, start: at, dataStart, end: size.unknown ? null : dataStart + size.value };
}

/** `value` as an 8-byte size vint (0x01 then 7 bytes, big-endian). */
function sizeVint(value) {
  const out = new Uint8Array(8);
  out[0] = 0x01;
  for (let k = 7, rest = value; k >= 1; k--, rest = Math.floor(rest / 256)) out[k] = rest % 256;
  return out;
}

/** The unsigned integer in `bytes[from, to)`. */
function readUint(bytes, from, to) {
  let value = 0;
  for (let k = from; k < to; k++) value = value * 256 + bytes[k];
  return value;
}

/**
 * Where Info lies in the head of a WebM, and what it holds: {segment, info, scale (ns per tick),
 * hasDuration}, or null when the file is not one we may change (see the header).
 */
export function findInfo(bytes) {
  const header = readElement(bytes, 0);
  if (!header || header.id !== 0x1a45dfa3 || header.end === null) return null;
  const segment = readElement(bytes, header.end);
  if (!segment || segment.id !== ID.segment) return null;
  for (let at = segment.dataStart; at < bytes.length;) {
    const child = readElement(bytes, at);
    if (!child || child.end === null || child.id === ID.seekHead || child.id === ID.cluster) return null;
    if (child.id === ID.info) {
      if (child.end > bytes.length) return null;
      let scale = 1e6;
      let hasDuration = false;
      for (let inner = child.dataStart; inner < child.end;) {
        const field = readElement(bytes, inner);
        if (!field || field.end === null || field.end > child.end) return null;
        if (field.id === ID.timecodeScale) scale = readUint(bytes, field.dataStart, field.end) || 1e6;
        if (field.id === ID.duration) hasDuration = true;
        inner = field.end;
      }
      return { segment, info: child, scale, hasDuration };
    }
    at = child.end;
  }
  return null;
}

/** The bytes of the head of a WebM with Info rewritten to hold `milliseconds`, up to the old
 * Info's end (`infoEnd`), or null (see `findInfo`). */
export function patchHead(bytes, milliseconds) {
  const found = findInfo(bytes);
  if (!found || found.hasDuration || !(milliseconds > 0)) return null;
  const { segment, info, scale } = found;
  const duration = new Uint8Array(11); // ID 44 89, size 0x88 (8 bytes), float64 big-endian
  duration.set([0x44, 0x89, 0x88]);
  new DataView(duration.buffer).setFloat64(3, (milliseconds * 1e6) / scale);
  const children = bytes.subarray(info.dataStart, info.end);
  const infoId = bytes.subarray(info.start, info.start + 4);
  const infoSize = sizeVint(children.length + duration.length);
  const grown = 4 + infoSize.length + children.length + duration.length - (info.end - info.start);
  // the Segment's own size: unknown (as MediaRecorder writes it) stays; a known one grows
  const segmentId = bytes.subarray(segment.start, segment.start + 4);
  const segmentSize = segment.end === null
    ? bytes.subarray(segment.start + 4, segment.dataStart)
    : sizeVint(segment.end - segment.dataStart + grown);
  const parts = [bytes.subarray(0, segment.start), segmentId, segmentSize,
    bytes.subarray(segment.dataStart, info.start), infoId, infoSize, children, duration];
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return { head: out, infoEnd: info.end };
}

/** `blob` (a WebM from MediaRecorder) with its duration written in, or unchanged when it cannot
 * be (see the header). */
export async function withDuration(blob, milliseconds) {
  const bytes = new Uint8Array(await blob.slice(0, HEAD_BYTES).arrayBuffer());
  const patched = patchHead(bytes, milliseconds);
  if (!patched) return blob;
  return new Blob([patched.head, blob.slice(patched.infoEnd)], { type: blob.type });
}
