import { loadConfig } from '../../config/index.js';
import { createPoolSource, poolSourceKindNames } from '../../pool/index.js';
import '../create-sink.js';
import { labelStudioPoolKind } from './register-pool-source.js';
import { rprRejection } from '../../../test/helpers/rpr-rejection.js';

describe('the label-studio pool kind', () => {
  it('is registered with the sinks, and a --pool label-studio:<project> flag reaches it unresolved', async () => {
    expect(poolSourceKindNames()).toContain('label-studio');
    const { config } = await loadConfig({
      cwd: '/work/dir',
      overrides: [{ flag: '--pool', path: ['pool', 'path'], value: 'label-studio:12' }],
      env: {},
    });
    expect(config.pool).toEqual({ path: 'label-studio:12', demo: false });
    const previous = { url: process.env['LABEL_STUDIO_URL'], key: process.env['LABEL_STUDIO_API_KEY'] };
    process.env['LABEL_STUDIO_URL'] = 'http://127.0.0.1:1';
    process.env['LABEL_STUDIO_API_KEY'] = 'a'.repeat(40);
    try {
      const source = await createPoolSource(config.pool.path);
      expect(source.description).toBe('Label Studio project 12 at http://127.0.0.1:1');
    } finally {
      for (const [name, value] of [['LABEL_STUDIO_URL', previous.url], ['LABEL_STUDIO_API_KEY', previous.key]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('takes a project title as it is, and says which variables are missing', async () => {
    const kind = labelStudioPoolKind({ LABEL_STUDIO_URL: 'http://ls.example', LABEL_STUDIO_API_KEY: 'k' });
    expect((await kind.create('Street signs', {})).description).toBe('Label Studio project Street signs at http://ls.example');
    expect(await kind.detect('/some/dir')).toBe(false);

    const error = await rprRejection(labelStudioPoolKind({}).create('12', {}));
    expect(error).toMatchObject({ code: 'RPR_CONFIG' });
    expect(error.message).toContain('LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY');
  });
});
