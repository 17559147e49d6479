import { formatCidr } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INIT_USAGE, parseInitArgs } from './init-args.js';
import {
  type InitArgumentError,
  InvalidInitFlagError,
  InvalidInitIdError,
  InvalidInitPortError,
  InvalidInitSubnetError,
  InvalidIptablesFamilyError,
} from './init-argument-error.js';
import { DEFAULT_INTERCEPTION_SETTINGS } from './interception-plan.js';

function refusal(argv: string[]): InitArgumentError {
  const result = parseInitArgs(argv);
  if (result.ok) throw new Error(`expected ${argv.join(' ')} to be refused`);
  return result.error;
}

describe('parseInitArgs', () => {
  it('uses the documented defaults with no arguments', () => {
    expect(parseInitArgs([])).toEqual({
      ok: true,
      value: { settings: DEFAULT_INTERCEPTION_SETTINGS, iptables: 'iptables', cleanup: false, dryRun: false, help: false },
    });
    expect(DEFAULT_INTERCEPTION_SETTINGS).toMatchObject({ inboundPort: 4243, outboundPort: 4240, proxyUid: 2102, ipv6: false });
  });

  it('reads every flag, as "--flag value" or "--flag=value"', () => {
    const result = parseInitArgs([
      '--inbound-port', '15006',
      '--outbound-port=15001',
      '--proxy-uid', '1337',
      '--proxy-gid=1338',
      '--skip-inbound-ports', '22,8000-8100',
      '--skip-outbound-ports=443',
      '--skip-subnets', '10.0.0.0/8,fd00::/8',
      '--iptables', 'iptables-legacy',
      '--ipv6',
      '--cleanup',
      '--dry-run',
    ]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { settings, ...rest } = result.value;
    expect(rest).toEqual({ iptables: 'iptables-legacy', cleanup: true, dryRun: true, help: false });
    expect(settings).toMatchObject({
      inboundPort: 15006,
      outboundPort: 15001,
      proxyUid: 1337,
      proxyGid: 1338,
      skipInboundPorts: [{ first: 22, last: 22 }, { first: 8000, last: 8100 }],
      skipOutboundPorts: [{ first: 443, last: 443 }],
      ipv6: true,
    });
    expect(settings.skipSubnets.map(formatCidr)).toEqual(['10.0.0.0/8', 'fd00::/8']);
  });

  it('lets an empty list clear the default skipped inbound ports', () => {
    const result = parseInitArgs(['--skip-inbound-ports', '']);
    expect(result.ok && result.value.settings.skipInboundPorts).toEqual([]);
  });

  it('writes a subnet given twice (in any spelling) once', () => {
    const result = parseInitArgs(['--skip-subnets', '10.1.0.0/16,10.1.2.3/16']);
    expect(result.ok && result.value.settings.skipSubnets.map(formatCidr)).toEqual(['10.1.0.0/16']);
  });

  it('reads -h and --help, and the usage lists every flag of the fixed command line', () => {
    expect(parseInitArgs(['-h'])).toMatchObject({ ok: true, value: { help: true } });
    expect(parseInitArgs(['--help'])).toMatchObject({ ok: true, value: { help: true } });
    for (const flag of ['--inbound-port', '--outbound-port', '--proxy-uid', '--proxy-gid', '--skip-inbound-ports',
      '--skip-outbound-ports', '--skip-subnets', '--iptables', '--ipv6', '--cleanup', '--dry-run']) {
      expect(INIT_USAGE).toContain(flag);
    }
    expect(INIT_USAGE).toContain('(default: 4290,4291; "" for none)');
  });

  it.each([
    [['--inbound-port', '70000'], InvalidInitPortError, '--inbound-port', '70000'],
    [['--outbound-port=0'], InvalidInitPortError, '--outbound-port', '0'],
    [['--skip-outbound-ports', '443,90-80'], InvalidInitPortError, '--skip-outbound-ports', '90-80'],
    [['--skip-inbound-ports', 'ssh'], InvalidInitPortError, '--skip-inbound-ports', 'ssh'],
    [['--skip-subnets', '10.0.0.0/8,10.0.0.0/33'], InvalidInitSubnetError, '--skip-subnets', '10.0.0.0/33'],
    [['--skip-subnets', 'example.com'], InvalidInitSubnetError, '--skip-subnets', 'example.com'],
    [['--proxy-uid', 'proxy'], InvalidInitIdError, '--proxy-uid', 'proxy'],
    [['--proxy-gid', '-1'], InvalidInitIdError, '--proxy-gid', '-1'],
    [['--proxy-uid', '4294967295'], InvalidInitIdError, '--proxy-uid', '4294967295'],
    [['--iptables', 'nft'], InvalidIptablesFamilyError, '--iptables', 'nft'],
    [['--ipv6=yes'], InvalidInitFlagError, '--ipv6', '--ipv6=yes'],
  ] as const)('refuses %j with %o naming %s and %j', (argv, errorClass, flag, input) => {
    const error = refusal([...argv]);
    expect(error).toBeInstanceOf(errorClass);
    expect(error.flag).toBe(flag);
    expect(error.input).toBe(input);
    expect(error.message).toContain(`${flag} ${JSON.stringify(input)}`);
  });

  it('refuses an unknown flag and lists the real ones', () => {
    const error = refusal(['--inbound', '4243']);
    expect(error).toBeInstanceOf(InvalidInitFlagError);
    expect(error.input).toBe('--inbound');
    expect(error.message).toMatch(/^"--inbound": is not a weft-init flag; the flags are --inbound-port, /);
    expect(error.toString()).toMatch(/^invalid flag "--inbound"/);
  });

  it('refuses a flag without its value', () => {
    for (const argv of [['--proxy-uid'], ['--skip-subnets', '--ipv6']]) {
      const error = refusal(argv);
      expect(error).toBeInstanceOf(InvalidInitFlagError);
      expect(error.flag).toBe(argv[0]);
      expect(error.message).toContain(`needs a value, e.g. ${argv[0]} `);
    }
  });

  it('refuses a flag given twice', () => {
    const error = refusal(['--inbound-port', '1000', '--inbound-port=2000']);
    expect(error).toBeInstanceOf(InvalidInitFlagError);
    expect(error.message).toContain('"--inbound-port": is given twice');
  });

  it('refuses the same port for inbound and outbound, naming both flags', () => {
    const error = refusal(['--outbound-port', '4243']);
    expect(error).toBeInstanceOf(InvalidInitPortError);
    expect(error.flag).toBe('--outbound-port');
    expect(error.input).toBe('4243');
    expect(error.message).toContain('--outbound-port "4243": is also the --inbound-port');
  });

  it('reads any two different ports back as given, and refuses any number outside 1-65535', () => {
    const port = fc.integer({ min: 1, max: 65_535 });
    fc.assert(
      fc.property(port, port, (inbound, outbound) => {
        fc.pre(inbound !== outbound);
        const result = parseInitArgs(['--inbound-port', `${inbound}`, `--outbound-port=${outbound}`]);
        expect(result.ok && [result.value.settings.inboundPort, result.value.settings.outboundPort]).toEqual([inbound, outbound]);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 65_536 })), (bad) => {
        expect(refusal(['--inbound-port', `${bad}`])).toBeInstanceOf(InvalidInitPortError);
      }),
    );
  });
});
