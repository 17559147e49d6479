// Reads the harness's command line (--quick, --runs, --duration, --contender ...) into settings, with errors that name the flag.
import { err, InvalidInputError, ok, parseDuration, type Result } from '@weft/core';
import { type ContenderCommandSpec, parseContenderCommand } from './contender-command.js';
import { PROPAGATION_SCENARIO_IDS, type PropagationScenarioId } from './control/propagation-scenario-ids.js';
import { IDENTITY_SCENARIO_IDS, type IdentityScenarioId } from './identity/identity-scenario-ids.js';
import { WEFT_BUILDS, type WeftBuild } from './weft-proxy-build.js';

/** The scenarios run against every contender that has their mode. */
export type ProxyScenarioId = 'h1-max' | 'h1-latency' | 'h1-hey' | 'h2c-max' | 'tcp-throughput';
/** Proxy scenarios, then Weft's own identity and mTLS scenarios (apps/bench/src/identity) and control-plane scenario (apps/bench/src/control). */
export type ScenarioId = ProxyScenarioId | IdentityScenarioId | PropagationScenarioId;
export const SCENARIO_IDS: readonly ScenarioId[] = ['h1-max', 'h1-latency', 'h1-hey', 'h2c-max', 'tcp-throughput', ...PROPAGATION_SCENARIO_IDS, ...IDENTITY_SCENARIO_IDS];
export const BUILTIN_CONTENDERS = ['direct', 'haproxy', 'nginx', 'http-proxy', 'weft'] as const;
/** The one built-in contender a `--contender NAME=COMMAND` may stand in for (another build or start line of Weft). */
const REPLACEABLE_CONTENDER = 'weft';

export class InvalidBenchOptionError extends InvalidInputError {
  readonly kind = 'bench option';
}

export interface BenchOptions {
  readonly quick: boolean;
  readonly runs: number;
  /** Measured time of each wrk, open-loop, hey and h2load run. */
  readonly durationMs: number;
  /** Load sent before each measured run and thrown away. */
  readonly warmupMs: number;
  /**
   * The same before the fixed-rate latency runs: long enough for a JIT runtime's proxy to reach the steady state a
   * long-running sidecar is in, the state their percentiles describe.
   */
  readonly latencyWarmupMs: number;
  /** Requests per second of the fixed-rate latency runs. */
  readonly rate: number;
  readonly wrkConnections: number;
  readonly latencyConnections: number;
  readonly h2Clients: number;
  readonly h2Streams: number;
  readonly tcpMegabytes: number;
  /** Contenders to run, in table order; built-in names and the names of `commands`. */
  readonly contenders: readonly string[];
  readonly commands: readonly ContenderCommandSpec[];
  /** Node/V8 flags of the built-in Weft contender's process, e.g. ["--max-semi-space-size=2"]. */
  readonly weftNodeFlags: readonly string[];
  /** Which build of the proxy Weft runs: the esbuild bundle its images ship, or tsc's dist/ tree. */
  readonly weftBuild: WeftBuild;
  readonly scenarios: readonly ScenarioId[];
  /** Markdown report path, or undefined to print only. */
  readonly out: string | undefined;
  /** Pin load tools and backend to CPU 0 and the proxy to CPU 1 with taskset. */
  readonly pin: boolean;
  readonly help: boolean;
}

const fullDefaults: BenchOptions = {
  quick: false,
  runs: 3,
  durationMs: 10_000,
  warmupMs: 2_000,
  latencyWarmupMs: 20_000,
  rate: 1_000,
  wrkConnections: 50,
  latencyConnections: 16,
  h2Clients: 10,
  h2Streams: 10,
  tcpMegabytes: 1_024,
  contenders: BUILTIN_CONTENDERS,
  commands: [],
  weftNodeFlags: [],
  weftBuild: 'bundle',
  scenarios: SCENARIO_IDS,
  out: 'docs/benchmarks.md',
  pin: true,
  help: false,
};

/** --quick: one short run of everything, printed only, for smoke tests. */
const quickDefaults: Partial<BenchOptions> = { quick: true, runs: 1, durationMs: 1_000, warmupMs: 250, latencyWarmupMs: 250, tcpMegabytes: 32, out: undefined };

export const BENCH_USAGE = `Usage: npm run bench -- [options]
  --quick                    one short run of every scenario, printed only (smoke test)
  --runs N                   runs per scenario and contender; the median is reported (default 3)
  --duration 10s             measured time of each load run (default 10s; --quick 1s)
  --warmup 2s                load sent first and thrown away (default 2s; --quick 250ms)
  --latency-warmup 20s       the same before the fixed-rate latency runs, until a JIT runtime's proxy is in its
                             steady state (default 20s; --quick 250ms)
  --rate 1000                requests/s of the fixed-rate latency runs (default 1000)
  --connections 50           wrk connections (default 50)
  --latency-connections 16   connections of the fixed-rate runs (default 16)
  --h2-clients 10 --h2-streams 10   h2load clients and concurrent streams per client
  --tcp-mb 1024              megabytes pushed through the opaque TCP test (default 1024; --quick 32)
  --contenders a,b,...       which contenders, in table order (default direct,haproxy,nginx,http-proxy,weft + commands)
  --contender NAME[:MODES]=COMMAND   add a proxy started by COMMAND; placeholders {port} {upstream}
                             {upstream_host} {upstream_port} {mode} {dir}; MODES among http1,h2c,tcp (default all);
                             NAME weft replaces the built-in Weft
  --weft-node-flags "FLAGS"  extra Node/V8 flags of the built-in Weft process, e.g. "--max-semi-space-size=2" or
                             "--cpu-prof --cpu-prof-dir=/tmp/weft-prof" (summarise with cpu-profile-main.js)
  --weft-build bundle|dist   run the proxy as its images ship it, an esbuild bundle (default), or tsc's
                             apps/proxy/dist tree
  --scenarios a,b,...        among ${SCENARIO_IDS.join(', ')} (default all;
                             ${[...IDENTITY_SCENARIO_IDS, ...PROPAGATION_SCENARIO_IDS].join(', ')} run when weft is among the contenders;
                             endpoint-propagation: 100 gRPC subscribers, 20 endpoint changes (--quick 5))
  --out FILE | --no-out      Markdown report (default docs/benchmarks.md; --quick prints only)
  --no-pin                   do not pin with taskset`;

type Flag = (value: string, into: Partial<Mutable<BenchOptions>>) => Result<void, InvalidBenchOptionError>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const valueFlags: Record<string, Flag> = {
  '--runs': integerFlag('--runs', 'runs', 1, 100),
  '--duration': durationFlag('--duration', 'durationMs', 100),
  '--warmup': durationFlag('--warmup', 'warmupMs', 0),
  '--latency-warmup': durationFlag('--latency-warmup', 'latencyWarmupMs', 0),
  '--rate': integerFlag('--rate', 'rate', 1, 100_000),
  '--connections': integerFlag('--connections', 'wrkConnections', 1, 10_000),
  '--latency-connections': integerFlag('--latency-connections', 'latencyConnections', 1, 10_000),
  '--h2-clients': integerFlag('--h2-clients', 'h2Clients', 1, 1_000),
  '--h2-streams': integerFlag('--h2-streams', 'h2Streams', 1, 1_000),
  '--tcp-mb': integerFlag('--tcp-mb', 'tcpMegabytes', 1, 100_000),
  '--contenders': (value, into) => {
    into.contenders = splitList(value);
    return ok(undefined);
  },
  '--contender': (value, into) => {
    const spec = parseContenderCommand(value);
    if (!spec.ok) return err(new InvalidBenchOptionError(value, `--contender: ${spec.error.reason}`));
    into.commands = [...(into.commands ?? []), spec.value];
    return ok(undefined);
  },
  '--weft-node-flags': (value, into) => {
    const flags = value.split(/\s+/).filter((flag) => flag !== '');
    const bad = flags.find((flag) => !/^--[a-z0-9][a-z0-9-_]*(=\S+)?$/i.test(flag));
    if (bad !== undefined) return err(new InvalidBenchOptionError(value, `--weft-node-flags: "${bad}" is not a --flag or --flag=value, e.g. "--max-semi-space-size=2"`));
    into.weftNodeFlags = flags;
    return ok(undefined);
  },
  '--weft-build': (value, into) => {
    if (!(WEFT_BUILDS as readonly string[]).includes(value)) return err(new InvalidBenchOptionError(value, `--weft-build: choose ${WEFT_BUILDS.join(' or ')}`));
    into.weftBuild = value as WeftBuild;
    return ok(undefined);
  },
  '--scenarios': (value, into) => {
    const names = splitList(value);
    const unknown = names.find((name) => !(SCENARIO_IDS as readonly string[]).includes(name));
    if (unknown !== undefined) return err(new InvalidBenchOptionError(value, `--scenarios: "${unknown}" is not one of ${SCENARIO_IDS.join(', ')}`));
    into.scenarios = names as ScenarioId[];
    return ok(undefined);
  },
  '--out': (value, into) => {
    into.out = value;
    return ok(undefined);
  },
};

const switches: Record<string, (into: Partial<Mutable<BenchOptions>>) => void> = {
  '--quick': (into) => (into.quick = true),
  '--no-out': (into) => (into.out = undefined),
  '--no-pin': (into) => (into.pin = false),
  '--help': (into) => (into.help = true),
  '-h': (into) => (into.help = true),
};

/** Parses argv (without node and the script); flags given explicitly win over the --quick defaults wherever they stand. */
export function parseBenchOptions(argv: readonly string[]): Result<BenchOptions, InvalidBenchOptionError> {
  const given: Partial<Mutable<BenchOptions>> = {};
  for (let index = 0; index < argv.length; index += 1) {
    const [flag, inlineValue] = splitFlag(argv[index] as string);
    const toggle = switches[flag];
    if (toggle && inlineValue === undefined) {
      toggle(given);
      continue;
    }
    const parse = valueFlags[flag];
    if (!parse) return err(new InvalidBenchOptionError(flag, `is not an option; see --help:\n${BENCH_USAGE}`));
    const value = inlineValue ?? argv[(index += 1)];
    if (value === undefined) return err(new InvalidBenchOptionError(flag, 'needs a value, e.g. `--runs 3`'));
    const parsed = parse(value, given);
    if (!parsed.ok) return parsed;
  }
  return finish(given);
}

function finish(given: Partial<Mutable<BenchOptions>>): Result<BenchOptions, InvalidBenchOptionError> {
  const options: BenchOptions = { ...fullDefaults, ...(given.quick === true ? quickDefaults : {}), ...given };
  const commandNames = options.commands.map((spec) => spec.name);
  const contenders = given.contenders ?? [...BUILTIN_CONTENDERS, ...commandNames.filter((name) => name !== REPLACEABLE_CONTENDER)];
  const known = new Set<string>([...BUILTIN_CONTENDERS, ...commandNames]);
  const unknown = contenders.find((name) => !known.has(name));
  if (unknown !== undefined) {
    return err(new InvalidBenchOptionError(unknown, `--contenders: unknown contender; choose among ${[...known].join(', ')} or add one with --contender ${unknown}=COMMAND`));
  }
  const fixed = (name: string): boolean => name !== REPLACEABLE_CONTENDER && (BUILTIN_CONTENDERS as readonly string[]).includes(name);
  const clash = commandNames.find((name, index) => fixed(name) || commandNames.indexOf(name) !== index);
  if (clash !== undefined) return err(new InvalidBenchOptionError(clash, '--contender: this name is already taken; pick another, e.g. "weft-next"'));
  return ok({ ...options, contenders: [...new Set(contenders)] });
}

function splitFlag(arg: string): [string, string | undefined] {
  const equals = arg.indexOf('=');
  return arg.startsWith('--') && equals > 0 ? [arg.slice(0, equals), arg.slice(equals + 1)] : [arg, undefined];
}

function splitList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

type NumberKey = { [K in keyof BenchOptions]: BenchOptions[K] extends number ? K : never }[keyof BenchOptions];

function integerFlag(flag: string, key: NumberKey, min: number, max: number): Flag {
  return (value, into) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) {
      return err(new InvalidBenchOptionError(value, `${flag} takes a whole number from ${min} to ${max}`));
    }
    into[key] = number;
    return ok(undefined);
  };
}

function durationFlag(flag: string, key: NumberKey, minMs: number): Flag {
  return (value, into) => {
    const parsed = parseDuration(value);
    if (!parsed.ok) return err(new InvalidBenchOptionError(value, `${flag}: ${parsed.error.reason}`));
    if (parsed.value < minMs) return err(new InvalidBenchOptionError(value, `${flag} must be at least ${minMs}ms`));
    into[key] = parsed.value;
    return ok(undefined);
  };
}
