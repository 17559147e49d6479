// Whether a peer address is on this host's loopback, the only peers allowed to reach restricted admin routes.
import { type Cidr, cidrContains, parseCidr, unwrap } from '@weft/core';

// 127.0.0.0/8 also matches "::ffff:127.x.y.z", which is how dual-stack sockets report IPv4 loopback peers.
const loopbackBlocks: readonly Cidr[] = [unwrap(parseCidr('127.0.0.0/8')), unwrap(parseCidr('::1/128'))];

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback; false for anything else, including text that is no IP. */
export function isLoopbackAddress(ip: string): boolean {
  return loopbackBlocks.some((block) => cidrContains(block, ip));
}
