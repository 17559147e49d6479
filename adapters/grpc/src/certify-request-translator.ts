// Translates a wire CertifyRequest to and from the core's CertifyWorkloadRequest, refusing oversized or undecodable fields.
import type { identity } from '@weft/contracts';
import {
  type CertifyWorkloadRequest,
  CertifyRefusal,
  err,
  MAX_CSR_BYTES,
  ok,
  type Result,
  TokenRefusal,
} from '@weft/core';

/** The longest token read from the wire; Kubernetes service-account tokens take 1-2 KB, ours about 400 bytes. */
export const MAX_CERTIFY_TOKEN_BYTES = 8_192;

/**
 * The largest Certify message the identity server receives: a full token and CSR fit with room to spare. Larger ones
 * are refused by grpc-js itself (RESOURCE_EXHAUSTED) before they are decoded.
 */
export const MAX_CERTIFY_MESSAGE_BYTES = 32 * 1_024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The core request in a wire request: the token as UTF-8 text, both token and CSR within their size caps. */
export function certifyRequestFromWire(
  request: identity.CertifyRequest,
): Result<CertifyWorkloadRequest, TokenRefusal | CertifyRefusal> {
  const token = tokenFromWire(request.token);
  if (!token.ok) return token;
  const csr = request.certificateSigningRequest;
  const csrRefusal = csrSizeRefusal(csr);
  if (csrRefusal !== undefined) return err(csrRefusal);
  return ok({ identityName: request.identity, token: token.value, csr: new Uint8Array(csr) });
}

/** The wire request for a core request, or the refusal of a token or CSR the server would refuse for its size. */
export function certifyRequestToWire(
  request: CertifyWorkloadRequest,
): Result<identity.CertifyRequest, TokenRefusal | CertifyRefusal> {
  const token = Buffer.from(request.token, 'utf8');
  if (token.byteLength > MAX_CERTIFY_TOKEN_BYTES) return err(oversizeToken(token.byteLength));
  const csrRefusal = csrSizeRefusal(request.csr);
  if (csrRefusal !== undefined) return err(csrRefusal);
  return ok({ identity: request.identityName, token, certificateSigningRequest: Buffer.from(request.csr) });
}

function tokenFromWire(bytes: Uint8Array): Result<string, TokenRefusal> {
  if (bytes.byteLength === 0) {
    return err(new TokenRefusal('invalid', 'no token was sent; send the token that proves the workload\'s identity'));
  }
  if (bytes.byteLength > MAX_CERTIFY_TOKEN_BYTES) return err(oversizeToken(bytes.byteLength));
  try {
    return ok(utf8.decode(bytes));
  } catch {
    return err(new TokenRefusal('invalid', 'the token is not UTF-8 text; send the token as it was issued'));
  }
}

function oversizeToken(bytes: number): TokenRefusal {
  return new TokenRefusal('invalid', `the token is ${bytes} bytes long, over the ${MAX_CERTIFY_TOKEN_BYTES} the control plane reads`);
}

function csrSizeRefusal(csr: Uint8Array): CertifyRefusal | undefined {
  if (csr.byteLength === 0) {
    return new CertifyRefusal('malformed-csr', 'no certificate signing request was sent; send a DER PKCS#10 CSR');
  }
  if (csr.byteLength <= MAX_CSR_BYTES) return undefined;
  return new CertifyRefusal(
    'malformed-csr',
    `the CSR is ${csr.byteLength} bytes long, over the ${MAX_CSR_BYTES} a workload CSR may have; send one P-256 key and one DNS SAN`,
  );
}
