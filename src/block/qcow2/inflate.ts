/**
 * Raw DEFLATE decoder (RFC 1951) for qcow2 compressed clusters. Written here rather
 * than using DecompressionStream because a compressed cluster is followed by unrelated
 * bytes (the rest of its last sector, or the next compressed cluster), which browsers'
 * streams reject as trailing junk; and because output must be bounded by the cluster
 * size whatever a hostile image contains. Decoding stops as soon as `out` is full.
 *
 * Huffman decoding uses one flat lookup table per code (2^maxLength entries, at most
 * 32768), each entry packing symbol << 4 | length.
 */

export class InflateError extends Error {
  override name = 'InflateError';
}

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
  8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

interface Huffman {
  table: Int32Array; // symbol << 4 | length, or -1 for an unused code
  bits: number;
}

/** Build a decode table from code lengths (canonical Huffman, codes read LSB-first). */
function buildHuffman(lengths: ArrayLike<number>, n: number): Huffman {
  const count = new Uint16Array(16);
  let maxLen = 0;
  for (let i = 0; i < n; i++) {
    const l = lengths[i]!;
    count[l]!++;
    if (l > maxLen) maxLen = l;
  }
  count[0] = 0;
  // Check the code is not over-subscribed (incomplete codes are allowed, as zlib allows
  // them for single-symbol distance codes).
  let left = 1;
  for (let l = 1; l <= 15; l++) {
    left = left * 2 - count[l]!;
    if (left < 0) throw new InflateError('over-subscribed Huffman code');
  }
  const bits = Math.max(maxLen, 1);
  const table = new Int32Array(1 << bits).fill(-1);
  const next = new Uint16Array(16);
  let code = 0;
  for (let l = 1; l <= 15; l++) {
    code = (code + count[l - 1]!) << 1;
    next[l] = code;
  }
  // count[0] was zeroed, so the loop above gives the canonical first code of each length.
  for (let sym = 0; sym < n; sym++) {
    const l = lengths[sym]!;
    if (l === 0) continue;
    const c = next[l]!++;
    // Reverse the l-bit code (DEFLATE sends Huffman codes MSB-first into an LSB-first stream).
    let r = 0;
    for (let i = 0; i < l; i++) r |= ((c >> i) & 1) << (l - 1 - i);
    const entry = (sym << 4) | l;
    for (let j = r; j < 1 << bits; j += 1 << l) table[j] = entry;
  }
  return { table, bits };
}

let fixedLit: Huffman | null = null;
let fixedDist: Huffman | null = null;

function fixedTables(): [Huffman, Huffman] {
  if (!fixedLit || !fixedDist) {
    const l = new Uint8Array(288);
    l.fill(8, 0, 144);
    l.fill(9, 144, 256);
    l.fill(7, 256, 280);
    l.fill(8, 280, 288);
    fixedLit = buildHuffman(l, 288);
    fixedDist = buildHuffman(new Uint8Array(30).fill(5), 30);
  }
  return [fixedLit, fixedDist];
}

/**
 * Decode the raw DEFLATE stream in `src` into `out` until `out` is full or the final
 * block ends. Returns the number of bytes produced. Throws InflateError on malformed
 * data or when the input ends before either happens.
 */
export function inflateRaw(src: Uint8Array, out: Uint8Array): number {
  let inPos = 0;
  let bitBuf = 0;
  let bitCnt = 0;
  let outPos = 0;
  const outLen = out.length;

  const need = (n: number): void => {
    while (bitCnt < n) {
      if (inPos >= src.length) throw new InflateError('compressed data is truncated');
      bitBuf |= src[inPos++]! << bitCnt;
      bitCnt += 8;
    }
  };
  const getBits = (n: number): number => {
    if (n === 0) return 0;
    need(n);
    const v = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCnt -= n;
    return v;
  };
  const decode = (h: Huffman): number => {
    // Fill up to h.bits, tolerating the end of input as long as the code fits.
    while (bitCnt < h.bits && inPos < src.length) {
      bitBuf |= src[inPos++]! << bitCnt;
      bitCnt += 8;
    }
    const e = h.table[bitBuf & ((1 << h.bits) - 1)]!;
    if (e < 0) throw new InflateError('invalid Huffman code');
    const l = e & 15;
    if (l > bitCnt) throw new InflateError('compressed data is truncated');
    bitBuf >>>= l;
    bitCnt -= l;
    return e >> 4;
  };

  for (;;) {
    const final = getBits(1);
    const type = getBits(2);
    if (type === 0) {
      bitBuf = 0;
      bitCnt = 0; // skip to byte boundary (bits are consumed bytewise, so this drops < 8 bits)
      if (inPos + 4 > src.length) throw new InflateError('compressed data is truncated');
      const len = src[inPos]! | (src[inPos + 1]! << 8);
      const nlen = src[inPos + 2]! | (src[inPos + 3]! << 8);
      inPos += 4;
      if ((len ^ 0xffff) !== nlen) throw new InflateError('stored block length check failed');
      const n = Math.min(len, outLen - outPos);
      if (inPos + n > src.length) throw new InflateError('compressed data is truncated');
      out.set(src.subarray(inPos, inPos + n), outPos);
      outPos += n;
      inPos += len;
      if (outPos >= outLen) return outPos;
    } else if (type === 1 || type === 2) {
      let lit: Huffman;
      let dist: Huffman;
      if (type === 1) {
        [lit, dist] = fixedTables();
      } else {
        const hlit = getBits(5) + 257;
        const hdist = getBits(5) + 1;
        const hclen = getBits(4) + 4;
        if (hlit > 286 || hdist > 30) throw new InflateError('bad dynamic block header');
        const clen = new Uint8Array(19);
        for (let i = 0; i < hclen; i++) clen[CLEN_ORDER[i]!] = getBits(3);
        const ch = buildHuffman(clen, 19);
        const lens = new Uint8Array(hlit + hdist);
        let i = 0;
        while (i < hlit + hdist) {
          const sym = decode(ch);
          if (sym < 16) {
            lens[i++] = sym;
          } else {
            let rep: number;
            let val = 0;
            if (sym === 16) {
              if (i === 0) throw new InflateError('repeat with no previous length');
              val = lens[i - 1]!;
              rep = 3 + getBits(2);
            } else if (sym === 17) {
              rep = 3 + getBits(3);
            } else {
              rep = 11 + getBits(7);
            }
            if (i + rep > hlit + hdist) throw new InflateError('code lengths overflow');
            lens.fill(val, i, i + rep);
            i += rep;
          }
        }
        if (lens[256] === 0) throw new InflateError('no end-of-block code');
        lit = buildHuffman(lens.subarray(0, hlit), hlit);
        dist = buildHuffman(lens.subarray(hlit), hdist);
      }
      for (;;) {
        const sym = decode(lit);
        if (sym < 256) {
          out[outPos++] = sym;
          if (outPos >= outLen) return outPos;
        } else if (sym === 256) {
          break;
        } else {
          const li = sym - 257;
          if (li >= 29) throw new InflateError('invalid length symbol');
          const len = LEN_BASE[li]! + getBits(LEN_EXTRA[li]!);
          const ds = decode(dist);
          if (ds >= 30) throw new InflateError('invalid distance symbol');
          const d = DIST_BASE[ds]! + getBits(DIST_EXTRA[ds]!);
          if (d > outPos) throw new InflateError('distance reaches before the start of the output');
          const n = Math.min(len, outLen - outPos);
          let from = outPos - d;
          if (d >= n) {
            out.copyWithin(outPos, from, from + n);
            outPos += n;
          } else {
            for (let k = 0; k < n; k++) out[outPos++] = out[from++]!;
          }
          if (outPos >= outLen) return outPos;
        }
      }
    } else {
      throw new InflateError('invalid block type 3');
    }
    if (final) return outPos;
  }
}

/** Raw DEFLATE compression through the platform's CompressionStream (Node 20 and browsers). */
export async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
