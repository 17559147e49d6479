// Certificate issuance loops: the X.509 CA signing pre-made P-256 CSRs in this process, or the control plane's Certify over gRPC.
import { GrpcIdentityClient } from '@weft/adapter-grpc';
import { loadTokenSigningKey, SignedTokenIssuer } from '@weft/adapter-token';
import { createWorkloadCsr, X509CertificateAuthority } from '@weft/adapter-x509';
import { type Clock, err, identityName, ok, type Result, type SocketAddress, type WorkloadIdentity } from '@weft/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clockTicks, sampleProcessTree } from '../process-stats.js';
import { InvalidToolOutputError } from '../tool-output-error.js';
import { runBoundedLoop } from './bounded-loop.js';
import { benchWorkload, IDENTITY_DIR_FILES } from './mesh-identity-material.js';

export type IssuancePath = 'x509-ca' | 'control-grpc';
export const ISSUANCE_PATHS: readonly IssuancePath[] = ['x509-ca', 'control-grpc'];

/** What cert-issuance-main.js prints, one JSON line. */
export interface IssuanceReport {
  readonly path: IssuancePath;
  /** Certificates issued in the measured loop. */
  readonly issued: number;
  /** Refused or failed calls in the measured loop. */
  readonly failed: number;
  /** Wall time of the measured loop. */
  readonly seconds: number;
  /**
   * CPU time (user + system, every thread) of the issuing process during the measured loop: this process for
   * x509-ca, the control plane (read from /proc) for control-grpc; absent if it could not be read.
   */
  readonly cpuSeconds?: number;
  /** Certificates issued before the measured loop (warm-up), which the issuing process also did. */
  readonly warmupIssued: number;
  readonly concurrency: number;
  readonly firstError?: string;
}

export interface IssuanceLoopSettings {
  /** The folder with ca.crt, issuer.crt, issuer.key and token.key. */
  readonly identityDir: string;
  readonly maxCount: number;
  readonly durationMs: number;
  readonly warmupCount: number;
  readonly concurrency: number;
}

const systemClock: Clock = { now: () => Date.now() };

/** Identities `bench-<prefix>-<i>` in namespace default, each with a fresh key and its CSR. */
async function workloadCsrs(prefix: string, count: number): Promise<{ identity: WorkloadIdentity; csr: Uint8Array }[]> {
  const made: { identity: WorkloadIdentity; csr: Uint8Array }[] = [];
  for (let index = 0; index < count; index += 1) {
    const identity = benchWorkload(`bench-${prefix}-${index}`);
    made.push({ identity, csr: (await createWorkloadCsr(identity)).csrDer });
  }
  return made;
}

/** CPU seconds another process (the control plane) has used so far, from /proc; undefined if it is gone. */
function processCpuSeconds(pid: number): number | undefined {
  const sample = sampleProcessTree(pid);
  return sample === undefined ? undefined : sample.cpuTicks / clockTicks();
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/**
 * X509CertificateAuthority.certify (CSR signature and key checked, leaf signed) over `csrCount` pre-made CSRs in
 * turn, `concurrency` calls in flight: the CA's own cost, without gRPC or token checks.
 */
export async function measureCaIssuance(settings: IssuanceLoopSettings & { readonly csrCount: number }): Promise<IssuanceReport> {
  const read = (name: string): string => readFileSync(join(settings.identityDir, name), 'utf8');
  const authority = new X509CertificateAuthority(systemClock, { trustAnchorsPem: read(IDENTITY_DIR_FILES.trustAnchors) });
  const loaded = await authority.loadIssuer({ certificatePem: read(IDENTITY_DIR_FILES.issuerCertificate), privateKeyPem: read(IDENTITY_DIR_FILES.issuerKey) });
  if (!loaded.ok) throw loaded.error;
  const requests = await workloadCsrs('ca', Math.max(1, settings.csrCount));
  const certify = async (index: number): Promise<void> => {
    const request = requests[index % requests.length] as (typeof requests)[number];
    const issued = await authority.certify(request);
    if (!issued.ok) throw issued.error;
  };
  const warmup = await runBoundedLoop({ maxCount: settings.warmupCount, durationMs: 60_000, concurrency: settings.concurrency }, certify);
  const cpuStart = process.cpuUsage();
  const loop = await runBoundedLoop({ maxCount: settings.maxCount, durationMs: settings.durationMs, concurrency: settings.concurrency }, certify);
  return {
    path: 'x509-ca',
    issued: loop.completed,
    failed: loop.failed,
    seconds: loop.seconds,
    cpuSeconds: cpuSecondsSince(cpuStart),
    warmupIssued: warmup.completed,
    concurrency: settings.concurrency,
    ...(loop.firstError === undefined ? {} : { firstError: loop.firstError }),
  };
}

/**
 * The control plane's Identity service through GrpcIdentityClient, as proxies call it: each call carries a signed
 * token and a CSR for its identity. The control plane allows each identity a burst of `callsPerIdentity` calls, so the
 * loop spreads its calls over enough identities never to be rate-limited.
 */
export async function measureGrpcIssuance(
  settings: IssuanceLoopSettings & { readonly address: SocketAddress; readonly callsPerIdentity: number; readonly controlPid: number },
): Promise<IssuanceReport> {
  const tokens = new SignedTokenIssuer(await loadTokenSigningKey(join(settings.identityDir, IDENTITY_DIR_FILES.tokenKey)), systemClock);
  const prepare = async (prefix: string, count: number) =>
    (await workloadCsrs(prefix, count)).map(({ identity, csr }) => {
      const token = tokens.issue(identity);
      if (!token.ok) throw token.error;
      return { identityName: identityName(identity), token: token.value.token, csr };
    });
  const warmupRequests = await prepare('warm', Math.ceil(settings.warmupCount / settings.callsPerIdentity));
  const requests = await prepare('grpc', Math.ceil(settings.maxCount / settings.callsPerIdentity));
  const client = new GrpcIdentityClient({ address: settings.address });
  try {
    const call = (list: typeof requests, perIdentity: number) => async (index: number) => {
      const issued = await client.certify(list[Math.floor(index / perIdentity)] as (typeof list)[number]);
      if (!issued.ok) throw issued.error;
    };
    const perIdentity = settings.callsPerIdentity;
    const warmup = await runBoundedLoop({ maxCount: settings.warmupCount, durationMs: 60_000, concurrency: settings.concurrency }, call(warmupRequests, perIdentity));
    const cpuBefore = processCpuSeconds(settings.controlPid);
    const loop = await runBoundedLoop({ maxCount: settings.maxCount, durationMs: settings.durationMs, concurrency: settings.concurrency }, call(requests, perIdentity));
    const cpuAfter = processCpuSeconds(settings.controlPid);
    return {
      path: 'control-grpc',
      issued: loop.completed,
      failed: loop.failed,
      seconds: loop.seconds,
      ...(cpuBefore === undefined || cpuAfter === undefined ? {} : { cpuSeconds: cpuAfter - cpuBefore }),
      warmupIssued: warmup.completed,
      concurrency: settings.concurrency,
      ...(loop.firstError === undefined ? {} : { firstError: loop.firstError }),
    };
  } finally {
    client.close();
  }
}

/** Reads the JSON line of cert-issuance-main.js, checking its shape. */
export function parseIssuanceReport(text: string): Result<IssuanceReport, InvalidToolOutputError> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return err(new InvalidToolOutputError(text, 'is not JSON; expected the one-line report of cert-issuance-main.js'));
  }
  const report = data as Partial<Record<keyof IssuanceReport, unknown>> | null;
  const counts = ['issued', 'failed', 'seconds', 'warmupIssued', 'concurrency'] as const;
  if (report === null || typeof report !== 'object' || !(ISSUANCE_PATHS as readonly unknown[]).includes(report.path)) {
    return err(new InvalidToolOutputError(text, `lacks a path among ${ISSUANCE_PATHS.join(', ')}; expected the report of cert-issuance-main.js`));
  }
  const bad = counts.find((key) => typeof report[key] !== 'number' || !Number.isFinite(report[key]) || (report[key] as number) < 0);
  if (bad !== undefined) return err(new InvalidToolOutputError(text, `"${bad}" is not a number of 0 or more; expected the report of cert-issuance-main.js`));
  if (report.cpuSeconds !== undefined && (typeof report.cpuSeconds !== 'number' || !(report.cpuSeconds >= 0))) {
    return err(new InvalidToolOutputError(text, '"cpuSeconds" is not a number of 0 or more'));
  }
  return ok(report as unknown as IssuanceReport);
}
