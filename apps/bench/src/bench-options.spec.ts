import { describe, expect, it } from 'vitest';
import { InvalidBenchOptionError, parseBenchOptions, SCENARIO_IDS } from './bench-options.js';

describe('parseBenchOptions', () => {
  it('defaults to 3 runs of 10 s against direct, HAProxy, nginx, http-proxy and Weft, written to docs/benchmarks.md', () => {
    const result = parseBenchOptions([]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ quick: false, runs: 3, durationMs: 10_000, warmupMs: 2_000, rate: 1_000, wrkConnections: 50, out: 'docs/benchmarks.md', pin: true });
    expect(result.value.contenders).toEqual(['direct', 'haproxy', 'nginx', 'http-proxy', 'weft']);
    expect(result.value.weftNodeFlags).toEqual([]);
    expect(result.value.scenarios).toEqual(SCENARIO_IDS);
  });

  it('--quick is one short run that writes no file, and explicit flags win wherever they stand', () => {
    const quick = parseBenchOptions(['--quick']);
    expect(quick.ok && quick.value).toMatchObject({ quick: true, runs: 1, durationMs: 1_000, out: undefined });
    const overridden = parseBenchOptions(['--runs', '2', '--quick', '--duration=3s', '--out', '/tmp/b.md']);
    expect(overridden.ok && overridden.value).toMatchObject({ quick: true, runs: 2, durationMs: 3_000, out: '/tmp/b.md' });
  });

  it('warms the fixed-rate latency runs up for 20 s (a JIT proxy in its steady state), 250 ms with --quick, or as told', () => {
    const full = parseBenchOptions([]);
    expect(full.ok && full.value).toMatchObject({ warmupMs: 2_000, latencyWarmupMs: 20_000 });
    const quick = parseBenchOptions(['--quick']);
    expect(quick.ok && quick.value).toMatchObject({ warmupMs: 250, latencyWarmupMs: 250 });
    const told = parseBenchOptions(['--latency-warmup', '5s']);
    expect(told.ok && told.value).toMatchObject({ warmupMs: 2_000, latencyWarmupMs: 5_000 });
    const bad = parseBenchOptions(['--latency-warmup', 'soon']);
    expect(!bad.ok && bad.error.message).toContain('--latency-warmup');
  });

  it('adds a command contender to the table after the built-in ones', () => {
    const result = parseBenchOptions(['--contender', 'envoy=envoy --port {port} --upstream {upstream}']);
    expect(result.ok && result.value.contenders).toEqual(['direct', 'haproxy', 'nginx', 'http-proxy', 'weft', 'envoy']);
    expect(result.ok && result.value.commands[0]?.name).toBe('envoy');
  });

  it('lets a command named weft stand in for the built-in Weft, in its place', () => {
    const result = parseBenchOptions(['--contender', 'weft:http1=node other/main.js --listen {port} --upstream {upstream}']);
    expect(result.ok && result.value.contenders).toEqual(['direct', 'haproxy', 'nginx', 'http-proxy', 'weft']);
    expect(result.ok && result.value.commands.map((command) => command.name)).toEqual(['weft']);
  });

  it('reads the Node flags of the Weft process, with or without an equals sign', () => {
    const spaced = parseBenchOptions(['--weft-node-flags', '--max-semi-space-size=2  --cpu-prof']);
    expect(spaced.ok && spaced.value.weftNodeFlags).toEqual(['--max-semi-space-size=2', '--cpu-prof']);
    const joined = parseBenchOptions(['--weft-node-flags=--cpu-prof-dir=/tmp/weft-prof']);
    expect(joined.ok && joined.value.weftNodeFlags).toEqual(['--cpu-prof-dir=/tmp/weft-prof']);
  });

  it('runs the bundled proxy unless --weft-build dist asks for the tsc tree, and names the choices for anything else', () => {
    const defaults = parseBenchOptions([]);
    expect(defaults.ok && defaults.value.weftBuild).toBe('bundle');
    const dist = parseBenchOptions(['--weft-build', 'dist']);
    expect(dist.ok && dist.value.weftBuild).toBe('dist');
    const bad = parseBenchOptions(['--weft-build', 'esm']);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.message).toContain('--weft-build: choose bundle or dist');
  });

  it('selects contenders and scenarios', () => {
    const result = parseBenchOptions(['--contenders', 'direct,nginx', '--scenarios', 'h1-max,tcp-throughput', '--no-pin']);
    expect(result.ok && result.value).toMatchObject({ contenders: ['direct', 'nginx'], scenarios: ['h1-max', 'tcp-throughput'], pin: false });
  });

  it.each([
    [['--runs', '0'], '0', '--runs takes a whole number'],
    [['--duration', '10'], '10', '--duration'],
    [['--scenarios', 'h1-max,h3'], 'h1-max,h3', '"h3" is not one of'],
    [['--contenders', 'direct,envoy'], 'envoy', '--contender envoy=COMMAND'],
    [['--contender', 'nginx=nginx -g {port}'], 'nginx', 'already taken'],
    [['--contender', 'x=a {port}', '--contender', 'x=b {port}'], 'x', 'already taken'],
    [['--weft-node-flags', '--max-semi-space-size=2 -e'], '--max-semi-space-size=2 -e', '"-e" is not a --flag'],
    [['--contender', 'weft=node proxy.js'], 'weft=node proxy.js', '{port}'],
    [['--frobnicate'], '--frobnicate', 'is not an option'],
    [['--runs'], '--runs', 'needs a value'],
  ])('rejects %j, naming the value and the fix', (argv, input, hint) => {
    const result = parseBenchOptions(argv);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidBenchOptionError);
    expect(result.error.input).toBe(input);
    expect(result.error.message).toContain(hint);
  });
});
