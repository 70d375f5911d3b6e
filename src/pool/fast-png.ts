/**
 * A fast path for the commonest pool image: a plain 8-bit, non-interlaced grayscale or RGB PNG already at
 * the model's size. libvips costs ~0.65 ms per image whatever its size, which caps reference-mode scoring
 * of small images far below the projection's speed; inflating and unfiltering here costs a few µs.
 * Anything else — other depths or colour types, palettes, transparency, ICC profiles, EXIF orientation,
 * a resize, a bad CRC — returns null and goes through sharp, which also gives corrupt files their error.
 */
import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Chunks that change how pixels must be interpreted: leave those images to libvips. */
const REFUSED = new Set(['PLTE', 'tRNS', 'iCCP', 'eXIf', 'sBIT', 'cICP', 'gAMA', 'cHRM']);

export interface RawImage {
  readonly width: number;
  readonly height: number;
  /** 1 (gray) or 3 (RGB). */
  readonly channels: 1 | 3;
  /** Row-major HWC bytes. */
  readonly data: Uint8Array;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Reverses the PNG scanline filters into `out`; false on an unknown filter type. One loop per filter
 * type, chosen once per row: a per-byte switch made this the largest part of decoding a digit.
 */
function unfilter(raw: Uint8Array, out: Uint8Array, width: number, height: number, bpp: number): boolean {
  const stride = width * bpp;
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    const first = y === 0;
    switch (type) {
      case 0:
        out.set(raw.subarray(src, src + stride), row);
        break;
      case 1:
        for (let x = 0; x < stride; x++) out[row + x] = (raw[src + x]! + (x >= bpp ? out[row + x - bpp]! : 0)) & 0xff;
        break;
      case 2:
        if (first) out.set(raw.subarray(src, src + stride), row);
        else for (let x = 0; x < stride; x++) out[row + x] = (raw[src + x]! + out[prev + x]!) & 0xff;
        break;
      case 3:
        for (let x = 0; x < stride; x++) {
          const left = x >= bpp ? out[row + x - bpp]! : 0;
          const up = first ? 0 : out[prev + x]!;
          out[row + x] = (raw[src + x]! + ((left + up) >> 1)) & 0xff;
        }
        break;
      case 4:
        for (let x = 0; x < stride; x++) {
          const left = x >= bpp ? out[row + x - bpp]! : 0;
          const up = first ? 0 : out[prev + x]!;
          const upLeft = first || x < bpp ? 0 : out[prev + x - bpp]!;
          out[row + x] = (raw[src + x]! + paeth(left, up, upLeft)) & 0xff;
        }
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Decodes a plain PNG, or returns null when the image needs libvips. */
export function decodePlainPng(bytes: Uint8Array): RawImage | null {
  if (bytes.length < 33 || SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels: 1 | 3 | 0 = 0;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const typeStart = offset + 4;
    const dataStart = offset + 8;
    const end = dataStart + length;
    if (end + 4 > bytes.length) return null;
    const type = String.fromCharCode(bytes[typeStart]!, bytes[typeStart + 1]!, bytes[typeStart + 2]!, bytes[typeStart + 3]!);
    if (crc32(bytes.subarray(typeStart, end)) !== view.getUint32(end)) return null;
    if (type === 'IHDR') {
      width = view.getUint32(dataStart);
      height = view.getUint32(dataStart + 4);
      const depth = bytes[dataStart + 8];
      const colour = bytes[dataStart + 9];
      const interlace = bytes[dataStart + 12];
      if (depth !== 8 || interlace !== 0 || (colour !== 0 && colour !== 2)) return null;
      channels = colour === 0 ? 1 : 3;
    } else if (type === 'IDAT') {
      idat.push(bytes.subarray(dataStart, end));
    } else if (type === 'IEND') {
      ended = true;
      break;
    } else if (REFUSED.has(type)) {
      return null;
    }
    offset = end + 4;
  }
  if (!ended || channels === 0 || width === 0 || height === 0 || idat.length === 0) return null;
  let raw: Uint8Array;
  try {
    raw = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat));
  } catch {
    return null;
  }
  if (raw.length !== height * (width * channels + 1)) return null;
  const data = new Uint8Array(width * height * channels);
  return unfilter(raw, data, width, height, channels) ? { width, height, channels, data } : null;
}
