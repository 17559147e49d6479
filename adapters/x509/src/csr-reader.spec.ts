import { CertifyRefusal } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsr } from './csr-reader.js';
import { makeCsr, WEB_NAME, WEB_URI } from './test-pki.spec-helper.js';
import { createWorkloadCsr } from './workload-csr.js';

const good = (await createWorkloadCsr({ trustDomain: 'cluster.local', namespace: 'emojivoto', serviceAccount: 'web' })).csrDer;

describe('readCsr', () => {
  it('reads the facts of a good CSR', async () => {
    const read = await readCsr(good);
    expect(read.ok && read.value.facts).toEqual({
      signatureValid: true,
      keyAlgorithm: 'ECDSA',
      namedCurve: 'P-256',
      dnsNames: [WEB_NAME],
      uris: [],
      ipAddresses: [],
      emailAddresses: [],
    });
    expect(read.ok && read.value.otherNames).toEqual([]);
  });

  it('reads every kind of SAN, IPv6 included, and names the types it has no field for', async () => {
    const csr = await makeCsr({
      names: [
        { type: 'dns', value: WEB_NAME },
        { type: 'url', value: WEB_URI },
        { type: 'ip', value: '2001:db8::7' },
        { type: 'email', value: 'root@example.com' },
        { type: 'dn', value: 'CN=admin' },
      ],
    });
    const read = await readCsr(csr);
    if (!read.ok) throw read.error;
    expect(read.value.facts).toMatchObject({ dnsNames: [WEB_NAME], uris: [WEB_URI], emailAddresses: ['root@example.com'] });
    expect(read.value.facts.ipAddresses).toEqual(['2001:db8:0:0:0:0:0:7']);
    expect(read.value.otherNames).toEqual(['a directoryName name']);
  });

  it('refuses bytes after the request as malformed', async () => {
    const read = await readCsr(Uint8Array.from([...good, 0x00]));
    expect(!read.ok && read.error.code).toBe('malformed-csr');
  });

  it('never throws on a damaged CSR: it is read, refused as malformed, or its signature fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(good.length - 1), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        fc.nat(good.length),
        async (changes, cut) => {
          const damaged = good.slice(0, Math.max(1, cut));
          for (const { at, value } of changes) if (at < damaged.length) damaged[at] = value;
          const read = await readCsr(damaged);
          if (!read.ok) {
            expect(read.error).toBeInstanceOf(CertifyRefusal);
            expect(read.error.code).toBe('malformed-csr');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
