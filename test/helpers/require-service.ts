/**
 * Tests that need a real service (Label Studio, Redis, Chromium) skip, saying why, when it is missing on a
 * developer's machine; under CI (`RPR_CI=1`, exported by .ci/run) a missing service is a failure, so an
 * acceptance test can never pass by not running.
 */
export function describeWithService(service: string, missing: string | null): jest.Describe {
  if (missing === null) return describe;
  if (process.env['RPR_CI'] === '1') {
    const failing = ((name: string) => {
      describe(name, () => {
        it(`needs ${service}`, () => {
          throw new Error(`${service} is required under CI (RPR_CI=1) but is missing: ${missing}`);
        });
      });
    }) as unknown as jest.Describe;
    return failing;
  }
  process.stderr.write(`skipping the tests that need ${service}: ${missing}\n`);
  return describe.skip;
}

/** `it` for one test that needs something of a service (a PAT, short-lived tokens), by the same rule. */
export function itWithService(service: string, missing: string | null): jest.It {
  if (missing === null) return it;
  if (process.env['RPR_CI'] === '1') {
    const failing = ((name: string) => {
      it(name, () => {
        throw new Error(`${service} is required under CI (RPR_CI=1) but is missing: ${missing}`);
      });
    }) as unknown as jest.It;
    return failing;
  }
  process.stderr.write(`skipping a test that needs ${service}: ${missing}\n`);
  return it.skip;
}
