import { splitCsvLine } from './split-csv-line.js';

describe('splitCsvLine', () => {
  it.each([
    ['a,b,c', ['a', 'b', 'c']],
    ['single', ['single']],
    ['', ['']],
    ['a,,c,', ['a', '', 'c', '']],
    ['"x, y",z', ['x, y', 'z']],
    ['"say ""hi""",2', ['say "hi"', '2']],
    ['"",after', ['', 'after']],
  ])('splits %j', (line, fields) => {
    expect(splitCsvLine(line)).toEqual(fields);
  });

  it('returns null for an unterminated quote', () => {
    expect(splitCsvLine('"open,field')).toBeNull();
  });
});
