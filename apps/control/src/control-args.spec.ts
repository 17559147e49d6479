import { CertificateAuthority, DiscoverEndpoints, TokenValidator } from '@weft/core';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { ControlArgsError, parseControlArgs } from './control-args.js';
import { OrchestratorUnavailableError, orchestratorModules } from './orchestrator-modules.js';

describe('parseControlArgs', () => {
  it('defaults to the memory orchestrator, local admin and gRPC ports, cluster.local and in-memory identity', () => {
    expect(parseControlArgs([])).toEqual({
      orchestrator: 'memory',
      adminAddr: { ip: '127.0.0.1', port: 9990 },
      grpcAddr: { ip: '127.0.0.1', port: 8086 },
      trustDomain: 'cluster.local',
      help: false,
    });
  });

  it('reads flags in both --flag value and --flag=value forms', () => {
    expect(parseControlArgs(['--orchestrator', 'file', '--admin-addr=[::1]:19990'])).toMatchObject({
      orchestrator: 'file',
      adminAddr: { ip: '::1', port: 19_990 },
      help: false,
    });
  });

  it('reads the gRPC address, trust domain, identity folder, token key and leaf lifetime', () => {
    const args = parseControlArgs([
      '--grpc-addr=0.0.0.0:18086',
      '--trust-domain',
      'prod.example.org',
      '--identity-dir',
      '/etc/weft/identity',
      '--token-key=/etc/weft/token.key',
      '--leaf-lifetime',
      '1h30m',
    ]);
    expect(args).toEqual({
      orchestrator: 'memory',
      adminAddr: { ip: '127.0.0.1', port: 9990 },
      grpcAddr: { ip: '0.0.0.0', port: 18_086 },
      trustDomain: 'prod.example.org',
      identityDir: '/etc/weft/identity',
      tokenKeyFile: '/etc/weft/token.key',
      leafLifetimeMs: 90 * 60_000,
      help: false,
    });
  });

  it('leaves the token key to its default inside the identity folder', () => {
    expect(parseControlArgs(['--identity-dir', 'id'])).not.toHaveProperty('tokenKeyFile');
  });

  it.each([
    [['--orchestrator', 'nomad'], /--orchestrator "nomad" is not one of memory, file, docker, kubernetes/],
    [['--orchestrator'], /--orchestrator needs a value/],
    [['--admin-addr', 'localhost:99999'], /--admin-addr "localhost:99999"/],
    [['--verbose'], /unknown option "--verbose"/],
    [['--grpc-addr', '127.0.0.1'], /--grpc-addr "127.0.0.1"/],
    [['--grpc-addr'], /--grpc-addr needs a value/],
    [['--trust-domain', 'Cluster_Local'], /--trust-domain "Cluster_Local": .*"cluster.local"/],
    [['--trust-domain', ''], /--trust-domain "": /],
    [['--identity-dir', ''], /--identity-dir needs a path/],
    [['--identity-dir', 'd', '--leaf-lifetime', 'forever'], /--leaf-lifetime "forever": unexpected "forever"/],
    [['--identity-dir', 'd', '--leaf-lifetime', '30s'], /--leaf-lifetime "30s" is not between 1m and 8760h/],
    [['--identity-dir', 'd', '--leaf-lifetime', '9000h'], /--leaf-lifetime "9000h" is not between/],
    [['--token-key', 'k'], /--token-key needs --identity-dir/],
    [['--leaf-lifetime', '1h'], /--leaf-lifetime needs --identity-dir/],
  ])('refuses %j with an error naming it', (argv, message) => {
    expect(() => parseControlArgs(argv)).toThrow(ControlArgsError);
    expect(() => parseControlArgs(argv)).toThrow(message);
  });
});

describe('orchestratorModules', () => {
  it('gives the memory adapters for the memory orchestrator, leaving out the ports asked', () => {
    const all = new Container();
    all.load(...orchestratorModules('memory'));
    expect(all.isBound(TokenValidator)).toBe(true);
    const some = new Container();
    some.load(...orchestratorModules('memory', [TokenValidator, CertificateAuthority]));
    expect(some.isBound(TokenValidator)).toBe(false);
    expect(some.isBound(CertificateAuthority)).toBe(false);
    expect(some.isBound(DiscoverEndpoints)).toBe(true);
  });

  it('says which orchestrators this build carries when asked for another', () => {
    expect(() => orchestratorModules('kubernetes')).toThrow(OrchestratorUnavailableError);
    expect(() => orchestratorModules('kubernetes')).toThrow(/kubernetes orchestrator .* available: memory/);
  });
});
