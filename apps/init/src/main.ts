#!/usr/bin/env node
// weft-init: writes the nat-table rules that send a network namespace's TCP through the Weft proxy.
//
// Run it inside the workload's network namespace before the app starts (`ip netns exec <ns> weft-init`, or a
// container sharing the app's network with NET_ADMIN and NET_RAW). It creates the chains WEFT_INBOUND, jumped to
// from PREROUTING, which redirects inbound TCP to the proxy's inbound port (4243) except the skipped ports and
// subnets, and WEFT_OUTPUT, jumped to from OUTPUT, which redirects outbound TCP to the outbound port (4240) except
// the proxy's own user, loopback and the skipped ports and subnets. Running it again gives the same table;
// --cleanup removes the chains and jumps; --dry-run prints the rules without touching iptables. It prints what the
// kernel holds afterwards in iptables-save form. Exit 0 done, 1 an iptables command failed, 2 bad arguments.
import { runInit } from './run-init.js';

const code = await runInit(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
process.exitCode = code;
