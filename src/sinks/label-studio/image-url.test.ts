import { RprError } from '../../errors/index.js';
import { imageRefFor, storageDirectories } from './image-url.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof RprError ? error.code : 'not an RprError';
  }
  return undefined;
}

describe('imageRefFor', () => {
  it('maps an absolute path under the root to a local-files URL relative to the root', () => {
    expect(imageRefFor('/srv/data/pool/a.png', '/srv/data')).toEqual({
      kind: 'local',
      url: '/data/local-files/?d=pool/a.png',
      directory: '/srv/data/pool',
    });
    expect(imageRefFor('/tmp/x/y/z.png', '/')).toEqual({
      kind: 'local',
      url: '/data/local-files/?d=tmp/x/y/z.png',
      directory: '/tmp/x/y',
    });
  });

  it('accepts a trailing slash on the root and file:// URIs', () => {
    expect(imageRefFor('file:///srv/data/pool/a.png', '/srv/data/').url).toBe('/data/local-files/?d=pool/a.png');
  });

  it('percent-encodes each path segment but keeps the slashes', () => {
    const ref = imageRefFor('/srv/d/my pool/a&b?.png', '/srv/d');
    expect(ref.url).toBe('/data/local-files/?d=my%20pool/a%26b%3F.png');
    expect(new URL(ref.url, 'http://h').searchParams.get('d')).toBe('my pool/a&b?.png');
  });

  it('passes web and cloud URIs through untouched', () => {
    for (const uri of ['https://example.org/a.png?sig=1', 'http://h/x.png', 's3://bucket/key.png', 'gs://b/k.png']) {
      expect(imageRefFor(uri, '/')).toEqual({ kind: 'remote', url: uri });
    }
  });

  it('refuses relative paths, paths outside the root, and files directly in the root', () => {
    expect(codeOf(() => imageRefFor('pool/a.png', '/'))).toBe('RPR_CONFIG');
    expect(codeOf(() => imageRefFor('/etc/passwd', '/srv/data'))).toBe('RPR_CONFIG');
    expect(codeOf(() => imageRefFor('/srv/data/../other/a.png', '/srv/data'))).toBe('RPR_CONFIG');
    expect(codeOf(() => imageRefFor('/srv/data/a.png', '/srv/data'))).toBe('RPR_CONFIG');
    expect(codeOf(() => imageRefFor('/a.png', '/'))).toBe('RPR_CONFIG');
  });
});

describe('storageDirectories', () => {
  it('covers sibling folders with their common parent when it lies below the root', () => {
    expect(storageDirectories(['/srv/pool/0000', '/srv/pool/0001', '/srv/pool/0001'], '/')).toEqual(['/srv/pool']);
    expect(storageDirectories(['/srv/pool/a/x', '/srv/pool/b'], '/srv')).toEqual(['/srv/pool']);
  });

  it('keeps the folders apart when their common parent is the root itself', () => {
    expect(storageDirectories(['/srv/a', '/srv/b'], '/srv/')).toEqual(['/srv/a', '/srv/b']);
    expect(storageDirectories(['/tmp/a', '/home/b'], '/')).toEqual(['/tmp/a', '/home/b']);
  });

  it('passes a single folder through', () => {
    expect(storageDirectories(['/srv/pool/a'], '/')).toEqual(['/srv/pool/a']);
    expect(storageDirectories([], '/')).toEqual([]);
  });
});
