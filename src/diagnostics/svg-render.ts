/**
 * Renders a Vega-Lite spec to a standalone SVG string in Node: Vega-Lite compiles it to Vega, Vega
 * runs it headless (renderer 'none') and serializes the scene graph. No browser, canvas or network:
 * data is inline, fonts are the generic 'sans-serif'. Compiler warnings go to NODE_DEBUG=rpr.
 */
import { debuglog } from 'node:util';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { errors } from '../errors/index.js';

const debug = debuglog('rpr');

const logger = {
  level(): number {
    return 2;
  },
  error(...args: readonly unknown[]): never {
    throw errors.internal(`a report chart failed to compile: ${args.join(' ')}`);
  },
  warn(...args: readonly unknown[]) {
    debug('vega-lite warning: %s', args.join(' '));
    return logger;
  },
  info() {
    return logger;
  },
  debug() {
    return logger;
  },
};

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compile(spec, { logger }).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
