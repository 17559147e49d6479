import { describe, expect, it } from 'vitest';
import { SCENARIO_IDS } from '../bench-options.js';
import { identityScenariosSkipped } from './identity-scenarios.js';

describe('identityScenariosSkipped', () => {
  it('runs the identity scenarios whenever Weft is in the run', () => {
    expect(identityScenariosSkipped({ contenders: ['direct', 'weft'], scenarios: SCENARIO_IDS })).toBeUndefined();
  });

  it('says which chosen ones do not run, and why, when Weft is left out', () => {
    expect(identityScenariosSkipped({ contenders: ['direct', 'nginx'], scenarios: ['h1-max', 'cert-issuance', 'mtls-handshakes'] })).toBe(
      "cert-issuance, mtls-handshakes not run: they measure Weft's identity and mTLS, and weft is not among --contenders",
    );
  });

  it('says nothing when no identity scenario was chosen', () => {
    expect(identityScenariosSkipped({ contenders: ['direct'], scenarios: ['h1-max'] })).toBeUndefined();
  });
});
