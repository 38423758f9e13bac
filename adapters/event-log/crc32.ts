/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial 0x04C11DB7, reflected 0xEDB88320), table-driven, one
 * byte per step. It guards each record of the file log: a torn or corrupted record fails the check.
 */

/** The 256 remainders of the reflected polynomial, one per byte value. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32 of `bytes[start, end)` (the whole array by default), as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
