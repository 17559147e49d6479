import { CertificateAuthority, Clock } from '@weft/core';
import { Container } from 'inversify';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { createIssuer, createTrustAnchor } from './ca-material.js';
import { CaMaterialError } from './ca-material-error.js';
import { type IssuerEvent, IssuerFileWatcher, loadCertificateAuthorityFiles } from './issuer-files.js';
import { X509Certificate } from './peculiar-x509.js';
import { DAY, makeTestPki, NOW, tempFiles, TestClock, web } from './test-pki.spec-helper.js';
import { createWorkloadCsr } from './workload-csr.js';
import { x509Module } from './x509.module.js';

const pki = await makeTestPki();

async function pkiFiles() {
  const files = await tempFiles({
    'ca.crt': pki.anchor.certificatePem,
    'issuer.crt': pki.issuer.certificatePem,
    'issuer.key': pki.issuer.privateKeyPem,
  });
  return {
    ...files,
    paths: { trustAnchorsFile: files.path('ca.crt'), issuerCertificateFile: files.path('issuer.crt'), issuerKeyFile: files.path('issuer.key') },
  };
}

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

describe('loadCertificateAuthorityFiles', () => {
  it('loads the anchors and issuer from PEM files and issues leaves', async () => {
    const files = await pkiFiles();
    try {
      const loaded = await loadCertificateAuthorityFiles(files.paths, { clock: new TestClock(NOW) });
      if (!loaded.ok) throw loaded.error;
      loaded.value.watcher.close();
      expect(loaded.value.authority.currentIssuer()?.serial).toBe(serialOf(pki.issuer.certificatePem));
      const issued = await loaded.value.authority.certify({ csr: (await createWorkloadCsr(web)).csrDer, identity: web });
      expect(issued.ok).toBe(true);
    } finally {
      await files.remove();
    }
  });

  it('refuses an expired issuer, naming its file and the reason', async () => {
    const files = await pkiFiles();
    try {
      const expired = await createIssuer({ anchor: pki.anchor, now: NOW - 3 * DAY, lifetimeMs: DAY });
      await writeFile(files.path('issuer.crt'), expired.certificatePem);
      await writeFile(files.path('issuer.key'), expired.privateKeyPem);
      const loaded = await loadCertificateAuthorityFiles(files.paths, { clock: new TestClock(NOW) });
      expect(loaded.ok).toBe(false);
      if (loaded.ok) return;
      expect(loaded.error.code).toBe('expired');
      expect(loaded.error.input).toBe(files.path('issuer.crt'));
      expect(loaded.error.toString()).toContain(`invalid CA material "${files.path('issuer.crt')}": expired at`);
    } finally {
      await files.remove();
    }
  });

  it('refuses an issuer that does not chain to the anchors in the anchors file', async () => {
    const files = await pkiFiles();
    try {
      const other = await createTrustAnchor({ trustDomain: 'cluster.local', now: NOW - DAY });
      await writeFile(files.path('ca.crt'), other.certificatePem);
      const loaded = await loadCertificateAuthorityFiles(files.paths, { clock: new TestClock(NOW) });
      expect(!loaded.ok && [loaded.error.code, loaded.error.input]).toEqual(['untrusted', files.path('issuer.crt')]);
    } finally {
      await files.remove();
    }
  });

  it('names a missing file and a file without certificates', async () => {
    const files = await pkiFiles();
    try {
      const missing = await loadCertificateAuthorityFiles({ ...files.paths, issuerKeyFile: files.path('nope.key') }, { clock: new TestClock(NOW) });
      expect(!missing.ok && missing.error.toString()).toBe(`invalid CA material "${files.path('nope.key')}": does not exist; check the path and its permissions`);
      await writeFile(files.path('ca.crt'), 'hello');
      const empty = await loadCertificateAuthorityFiles(files.paths, { clock: new TestClock(NOW) });
      expect(!empty.ok && [empty.error.code, empty.error.input]).toEqual(['malformed', files.path('ca.crt')]);
    } finally {
      await files.remove();
    }
  });
});

describe('IssuerFileWatcher', () => {
  it('loads a new issuer when the files change, and keeps the last good one when new files are bad', async () => {
    const files = await pkiFiles();
    const events: IssuerEvent[] = [];
    try {
      const loaded = await loadCertificateAuthorityFiles(files.paths, { clock: new TestClock(NOW), onEvent: (event) => events.push(event) });
      if (!loaded.ok) throw loaded.error;
      const { authority, watcher } = loaded.value;
      watcher.close();
      expect(await watcher.check()).toBeUndefined();

      const next = await createIssuer({ anchor: pki.anchor, now: NOW - 1_000 });
      await writeFile(files.path('issuer.crt'), next.certificatePem);
      // Half-way through a rotation: the new certificate with the old key.
      const halfWritten = await watcher.check();
      expect(halfWritten?.ok === false && [halfWritten.error.code, halfWritten.error.input]).toEqual(['key-mismatch', files.path('issuer.key')]);
      expect(authority.currentIssuer()?.serial).toBe(serialOf(pki.issuer.certificatePem));
      await writeFile(files.path('issuer.key'), next.privateKeyPem);
      expect((await watcher.check())?.ok).toBe(true);
      expect(authority.currentIssuer()?.serial).toBe(serialOf(next.certificatePem));

      await writeFile(files.path('issuer.crt'), 'garbage');
      const garbage = await watcher.check();
      expect(garbage?.ok === false && garbage.error.code).toBe('malformed');
      expect(await watcher.check()).toBeUndefined();
      expect(authority.currentIssuer()?.serial).toBe(serialOf(next.certificatePem));

      expect(events.map((event) => (event.type === 'loaded' ? 'loaded' : `refused ${event.error.code}`))).toEqual([
        'loaded',
        'refused key-mismatch',
        'loaded',
        'refused malformed',
      ]);
      const refusal = events[3];
      expect(refusal?.type === 'refused' && refusal.keptIssuer?.serial).toBe(serialOf(next.certificatePem));
    } finally {
      await files.remove();
    }
  });

  it('notices a change by itself while started', async () => {
    const files = await pkiFiles();
    try {
      const loaded = await loadCertificateAuthorityFiles(files.paths, { clock: new TestClock(NOW), pollIntervalMs: 20 });
      if (!loaded.ok) throw loaded.error;
      const { authority, watcher } = loaded.value;
      try {
        const next = await createIssuer({ anchor: pki.anchor, now: NOW - 1_000 });
        await writeFile(files.path('issuer.key'), next.privateKeyPem);
        await writeFile(files.path('issuer.crt'), next.certificatePem);
        await vi.waitFor(() => expect(authority.currentIssuer()?.serial).toBe(serialOf(next.certificatePem)), { timeout: 2_000 });
      } finally {
        watcher.close();
      }
    } finally {
      await files.remove();
    }
  });
});

describe('x509Module', () => {
  it('binds CertificateAuthority to a CA that loads its issuer from the files', async () => {
    const files = await pkiFiles();
    const events: IssuerEvent[] = [];
    try {
      const container = new Container();
      container.bind<Clock>(Clock).toConstantValue(new TestClock(NOW));
      container.load(x509Module({ files: files.paths, onIssuerEvent: (event) => events.push(event) }));
      const authority = container.get<CertificateAuthority>(CertificateAuthority);
      const issued = await authority.certify({ csr: (await createWorkloadCsr(web)).csrDer, identity: web });
      expect(issued.ok).toBe(true);
      expect(authority.trustAnchorsPem()).toBe(pki.anchor.certificatePem);
      expect(events.map((event) => event.type)).toEqual(['loaded']);
      expect(container.get(IssuerFileWatcher).authority).toBe(authority);
      container.get(IssuerFileWatcher).close();
    } finally {
      await files.remove();
    }
  });

  it('binds a CA over PEM material given directly', async () => {
    const container = new Container();
    container.bind<Clock>(Clock).toConstantValue(new TestClock(NOW));
    container.load(x509Module({ trustAnchorsPem: pki.anchor.certificatePem, issuer: pki.issuer }));
    const authority = container.get<CertificateAuthority>(CertificateAuthority);
    expect((await authority.certify({ csr: (await createWorkloadCsr(web)).csrDer, identity: web })).ok).toBe(true);
  });

  it('names the anchors file when it cannot be read', async () => {
    const container = new Container();
    container.bind<Clock>(Clock).toConstantValue(new TestClock(NOW));
    const files = { trustAnchorsFile: '/nonexistent/ca.crt', issuerCertificateFile: '/nonexistent/issuer.crt', issuerKeyFile: '/nonexistent/issuer.key' };
    container.load(x509Module({ files }));
    expect(() => container.get<CertificateAuthority>(CertificateAuthority)).toThrow(CaMaterialError);
    expect(() => container.get<CertificateAuthority>(CertificateAuthority)).toThrow('/nonexistent/ca.crt');
  });
});
