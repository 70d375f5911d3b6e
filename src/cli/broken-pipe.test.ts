import { EventEmitter } from 'node:events';
import { exitQuietlyOnBrokenPipe } from './broken-pipe.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe('exitQuietlyOnBrokenPipe', () => {
  it('exits with status 0 when the reader of stdout is gone (EPIPE)', () => {
    const stdout = new EventEmitter();
    const exits: number[] = [];
    exitQuietlyOnBrokenPipe(stdout, (status) => exits.push(status));
    stdout.emit('error', errno('EPIPE'));
    expect(exits).toEqual([0]);
  });

  it('leaves every other stream error to fail loudly', () => {
    const stdout = new EventEmitter();
    const exits: number[] = [];
    exitQuietlyOnBrokenPipe(stdout, (status) => exits.push(status));
    expect(() => stdout.emit('error', errno('ENOSPC'))).toThrow('write ENOSPC');
    expect(exits).toEqual([]);
  });
});
