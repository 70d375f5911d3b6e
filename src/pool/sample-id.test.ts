import { sampleId } from './sample-id.js';

describe('sampleId', () => {
  it('is the sha256 hex digest of the bytes (FIPS 180-2 test vectors)', () => {
    expect(sampleId(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sampleId(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
