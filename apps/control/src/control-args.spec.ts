import { CertificateAuthority, DiscoverEndpoints, TokenValidator } from '@weft/core';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { ControlArgsError, parseControlArgs, resolveTrustDomain } from './control-args.js';
import { ControlMetrics } from './control-metrics.js';
import { OrchestratorUnavailableError, prepareOrchestrator } from './orchestrator-modules.js';

describe('parseControlArgs', () => {
  it('defaults to the memory orchestrator, local admin and gRPC ports, the default trust domain and in-memory identity', () => {
    expect(parseControlArgs([])).toEqual({
      orchestrator: 'memory',
      adminAddr: { ip: '127.0.0.1', port: 9990 },
      grpcAddr: { ip: '127.0.0.1', port: 8086 },
      dockerSocket: '/var/run/docker.sock',
      dockerInject: true,
      sidecarImage: 'weft/proxy:latest',
      sidecarControlAddr: 'weft-control:8086',
      help: false,
    });
    expect(resolveTrustDomain(parseControlArgs([]))).toBe('cluster.local');
  });

  it('reads the mesh file of the file orchestrator', () => {
    expect(parseControlArgs(['--orchestrator=file', '--mesh-file', 'mesh.yaml'])).toMatchObject({ orchestrator: 'file', meshFile: 'mesh.yaml' });
  });

  it('reads flags in both --flag value and --flag=value forms', () => {
    expect(parseControlArgs(['--orchestrator', 'file', '--mesh-file=m.yaml', '--admin-addr=[::1]:19990'])).toMatchObject({
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
      dockerSocket: '/var/run/docker.sock',
      dockerInject: true,
      sidecarImage: 'weft/proxy:latest',
      sidecarControlAddr: 'weft-control:8086',
      help: false,
    });
  });

  it('reads the docker orchestrator flags, with an optional mesh file', () => {
    const args = parseControlArgs([
      '--orchestrator=docker',
      '--docker-socket',
      'unix:///run/user/1000/docker.sock',
      '--docker-inject=false',
      '--sidecar-image',
      'registry.local:5000/weft/proxy:1.2',
      '--sidecar-control-addr',
      'control.weft:18086',
    ]);
    expect(args).toMatchObject({
      orchestrator: 'docker',
      dockerSocket: '/run/user/1000/docker.sock',
      dockerInject: false,
      sidecarImage: 'registry.local:5000/weft/proxy:1.2',
      sidecarControlAddr: 'control.weft:18086',
    });
    expect(args).not.toHaveProperty('meshFile');
    expect(parseControlArgs(['--orchestrator', 'docker', '--mesh-file', 'policies.yaml']).meshFile).toBe('policies.yaml');
    expect(parseControlArgs(['--orchestrator', 'docker', '--sidecar-control-addr', '[fd00::2]:8086']).sidecarControlAddr).toBe('[fd00::2]:8086');
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
    [['--orchestrator', 'file'], /--orchestrator file needs --mesh-file <file>/],
    [['--mesh-file', 'mesh.yaml'], /--mesh-file is read by --orchestrator file or docker only, not by memory/],
    [['--docker-socket', '/var/run/docker.sock'], /--docker-socket is read by --orchestrator docker only, not by memory/],
    [['--orchestrator', 'file', '--mesh-file', 'm.yaml', '--docker-inject', 'true'], /--docker-inject is read by --orchestrator docker only, not by file/],
    [['--orchestrator', 'docker', '--docker-socket', 'docker.sock'], /--docker-socket "docker.sock" is not an absolute path/],
    [['--orchestrator', 'docker', '--docker-inject', 'yes'], /--docker-inject "yes" is not true or false/],
    [['--orchestrator', 'docker', '--sidecar-image', 'Weft/Proxy'], /--sidecar-image "Weft\/Proxy" is not an image reference/],
    [['--orchestrator', 'docker', '--sidecar-image', 'weft proxy'], /--sidecar-image "weft proxy" is not an image reference/],
    [['--orchestrator', 'docker', '--sidecar-control-addr', 'weft-control'], /--sidecar-control-addr "weft-control" is not host:port/],
    [['--orchestrator', 'docker', '--sidecar-control-addr', 'weft-control:70000'], /--sidecar-control-addr "weft-control:70000" is not host:port/],
    [['--orchestrator', 'docker', '--sidecar-control-addr', 'weft_control:8086'], /--sidecar-control-addr "weft_control:8086" is not host:port/],
    [['--orchestrator', 'file', '--mesh-file', ''], /--mesh-file needs a path/],
  ])('refuses %j with an error naming it', (argv, message) => {
    expect(() => parseControlArgs(argv)).toThrow(ControlArgsError);
    expect(() => parseControlArgs(argv)).toThrow(message);
  });
});

describe('resolveTrustDomain', () => {
  const file = { trustDomain: 'shop.example', name: 'mesh file mesh.yaml' };

  it("takes the source's trust domain when no flag names one, and the flag's when it agrees", () => {
    expect(resolveTrustDomain(parseControlArgs([]), file)).toBe('shop.example');
    expect(resolveTrustDomain(parseControlArgs(['--trust-domain', 'shop.example']), file)).toBe('shop.example');
    expect(resolveTrustDomain(parseControlArgs(['--trust-domain', 'prod.example']))).toBe('prod.example');
  });

  it('refuses a flag that disagrees with the source, naming both and the way out', () => {
    const args = parseControlArgs(['--trust-domain', 'cluster.local']);
    expect(() => resolveTrustDomain(args, file)).toThrow(ControlArgsError);
    expect(() => resolveTrustDomain(args, file)).toThrow(
      '--trust-domain "cluster.local" does not match the trust domain "shop.example" of mesh file mesh.yaml; ' +
        'leave --trust-domain out, or write "trustDomain: cluster.local" in the file',
    );
  });
});

describe('prepareOrchestrator', () => {
  const context = (argv: string[]) => ({ args: parseControlArgs(argv), metrics: new ControlMetrics({ processMetrics: false }), log: () => undefined });

  it('gives the memory adapters for the memory orchestrator, leaving out the ports asked', async () => {
    const memory = await prepareOrchestrator(context([]));
    const all = new Container();
    all.load(...memory.modules([]));
    expect(all.isBound(TokenValidator)).toBe(true);
    const some = new Container();
    some.load(...memory.modules([TokenValidator, CertificateAuthority]));
    expect(some.isBound(TokenValidator)).toBe(false);
    expect(some.isBound(CertificateAuthority)).toBe(false);
    expect(some.isBound(DiscoverEndpoints)).toBe(true);
  });

  it('says which orchestrators this build carries when asked for another', async () => {
    await expect(prepareOrchestrator(context(['--orchestrator', 'kubernetes']))).rejects.toThrow(OrchestratorUnavailableError);
    await expect(prepareOrchestrator(context(['--orchestrator', 'kubernetes']))).rejects.toThrow(
      'the kubernetes orchestrator is not part of this build of weft-control; available: memory, file, docker',
    );
  });

  it('refuses to start the docker orchestrator when no engine answers at the socket, naming it', async () => {
    const socket = '/tmp/weft-test-no-engine-here.sock';
    const start = prepareOrchestrator(context(['--orchestrator', 'docker', '--docker-socket', socket]));
    await expect(start).rejects.toThrow(OrchestratorUnavailableError);
    await expect(start).rejects.toThrow(`cannot reach the Docker engine at ${socket}`);
  });
});
