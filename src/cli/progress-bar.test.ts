import { createProgressBar } from './progress-bar.js';

function sink(isTTY = false) {
  const out: string[] = [];
  return { out, stream: { write: (text: string) => out.push(text), isTTY, columns: 80 } };
}

describe('createProgressBar', () => {
  const progress = { done: 30, skipped: 2, total: 64, imagesPerSecond: 12.34 };

  it('draws in place on a terminal and clears its line at the end', () => {
    const { out, stream } = sink(true);
    let clock = 0;
    const bar = createProgressBar({ stream, enabled: true, now: () => clock });
    bar.update(progress);
    bar.update({ ...progress, done: 31 });
    clock = 1000;
    bar.update({ ...progress, total: null });
    bar.done();
    expect(out).toEqual([
      '\rscoring [############............] 32/64 (30 scored, 2 skipped, 12.3 images/s)\u001b[K',
      '\rscoring: 30 scored, 2 skipped, 12.3 images/s\u001b[K',
      '\r\u001b[K',
    ]);
  });

  it('draws nothing when stderr is not a terminal, or when disabled', () => {
    for (const [tty, enabled] of [
      [false, true],
      [true, false],
    ] as const) {
      const { out, stream } = sink(tty);
      const bar = createProgressBar({ stream, enabled });
      bar.update(progress);
      bar.done();
      expect(out).toEqual([]);
    }
  });
});
