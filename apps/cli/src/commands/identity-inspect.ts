// `weft identity inspect`: prints a certificate file's subject, SANs, validity and chain status.
import { type CertificateInspection, inspectCertificate } from '@weft/adapter-x509';
import { readFile } from 'node:fs/promises';
import type { CliIo } from '../cli-command.js';
import { humanDuration, parseArgs, UsageError } from './identity-args.js';

export const IDENTITY_INSPECT_USAGE = `Usage: weft identity inspect FILE [--anchors FILE]

Prints each certificate in FILE (PEM; a leaf, an issuer, a trust anchor or a bundle): subject, issuer, serial,
key, CA flag, SANs, validity with the time left, and, with --anchors, whether it chains to those trust anchors
(through the other certificates of FILE).

Exit status: 0 when every certificate is valid now (and trusted, with --anchors); 1 otherwise; 2 on usage errors.`;

export async function runIdentityInspect(args: readonly string[], io: CliIo, now: () => number): Promise<number> {
  const parsed = parseArgs(args, { valued: ['anchors'], switches: [] });
  const [file, ...extra] = parsed.positionals;
  if (file === undefined) throw new UsageError('weft identity inspect needs the FILE to inspect');
  if (extra.length > 0) throw new UsageError(`weft identity inspect takes one FILE; got also ${JSON.stringify(extra.join(' '))}`);
  const anchorsFile = parsed.values.get('anchors');
  const pem = await readText(file, io);
  const anchorsPem = anchorsFile === undefined ? undefined : await readText(anchorsFile, io);
  if (pem === undefined || (anchorsFile !== undefined && anchorsPem === undefined)) return 1;
  const at = now();
  const inspected = inspectCertificate(pem, {
    now: at,
    source: file,
    ...(anchorsPem === undefined ? {} : { trustAnchorsPem: anchorsPem }),
    ...(anchorsFile === undefined ? {} : { trustAnchorsSource: anchorsFile }),
  });
  if (!inspected.ok) {
    io.err(`weft identity inspect: ${inspected.error.toString()}`);
    return 1;
  }
  const certificates = inspected.value;
  certificates.forEach((certificate, index) => {
    if (index > 0) io.out('');
    io.out(`${file}: certificate ${index + 1} of ${certificates.length}`);
    for (const [label, value] of describe(certificate)) io.out(`  ${`${label}:`.padEnd(12)}${value}`);
  });
  return certificates.every((c) => c.validity === 'valid' && c.chain.status !== 'untrusted') ? 0 : 1;
}

// The file's text, or undefined once the reason it cannot be read has been reported.
async function readText(file: string, io: CliIo): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.err(`weft identity inspect: cannot read ${JSON.stringify(file)} (${typeof code === 'string' ? code : String(error)})`);
    return undefined;
  }
}

function describe(c: CertificateInspection): [string, string][] {
  const rows: [string, string][] = [
    ['subject', c.subject === '' ? '(empty: the names are in the SANs)' : c.subject],
    ['issuer', c.issuer],
    ['serial', c.serial],
    ['key', c.keyAlgorithm],
    ['CA', c.isCa ? `yes${c.pathLength === undefined ? '' : ` (path length ${c.pathLength})`}` : 'no'],
    ['DNS SANs', c.dnsNames.join(', ') || '(none)'],
    ['URI SANs', c.uris.join(', ') || '(none)'],
  ];
  if (c.otherNames.length > 0) rows.push(['other SANs', c.otherNames.join(', ')]);
  rows.push(['not before', new Date(c.notBefore).toISOString()], ['not after', `${new Date(c.notAfter).toISOString()} (${timeLeft(c)})`]);
  rows.push(['chain', c.chain.status === 'not-checked' ? 'not checked (pass --anchors FILE)' : `${c.chain.status}: ${c.chain.detail}`]);
  return rows;
}

function timeLeft(c: CertificateInspection): string {
  if (c.validity === 'expired') return `EXPIRED ${humanDuration(-c.remainingMs)} ago`;
  if (c.validity === 'not-yet-valid') return `NOT VALID YET; ${humanDuration(c.remainingMs)} of validity`;
  return `${humanDuration(c.remainingMs)} left`;
}
