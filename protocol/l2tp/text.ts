/**
 * UTF-8 for AVP strings without per-call allocation on the common path: host names, numbers and
 * user names are short ASCII, which is decoded and measured by hand; anything else goes through
 * the platform's lenient decoder (invalid bytes become U+FFFD, never an exception).
 */

const lenientDecoder = new TextDecoder("utf-8", { fatal: false });
const encoder = new TextEncoder();
/** Scratch for decodeUtf8's ASCII path. */
const codes: number[] = [];

/** Decodes `length` bytes at `at` as UTF-8, replacing invalid sequences instead of throwing. */
export function decodeUtf8(bytes: Uint8Array, at: number, length: number): string {
  if (length <= 64) {
    let ascii = true;
    for (let i = at; i < at + length; i++) {
      if (bytes[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      // One flat string from the codes: a string grown by `+=` is a chain of ropes in JSC, and the
      // strings decoded here are kept (a call's Calling Number: ~330 bytes as ropes, 36 flat).
      codes.length = length;
      for (let i = 0; i < length; i++) codes[i] = bytes[at + i];
      return String.fromCharCode.apply(null, codes);
    }
  }
  return lenientDecoder.decode(bytes.subarray(at, at + length));
}

/** The number of bytes `text` takes in UTF-8. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3; // a lone surrogate is written as U+FFFD (3 bytes)
    } else n += 3;
  }
  return n;
}

/** Writes `text` as UTF-8 at `at`; returns the position after it. */
export function writeUtf8(text: string, out: Uint8Array, at: number): number {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
    return at + text.length;
  }
  const { written } = encoder.encodeInto(text, out.subarray(at));
  return at + written;
}
