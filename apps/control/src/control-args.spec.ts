import { describe, expect, it } from 'vitest';
import { ControlArgsError, parseControlArgs } from './control-args.js';
import { OrchestratorUnavailableError, orchestratorModules } from './orchestrator-modules.js';

describe('parseControlArgs', () => {
  it('defaults to the memory orchestrator and the local admin port', () => {
    expect(parseControlArgs([])).toEqual({ orchestrator: 'memory', adminAddr: { ip: '127.0.0.1', port: 9990 }, help: false });
  });

  it('reads flags in both --flag value and --flag=value forms', () => {
    expect(parseControlArgs(['--orchestrator', 'file', '--admin-addr=[::1]:19990'])).toEqual({
      orchestrator: 'file',
      adminAddr: { ip: '::1', port: 19_990 },
      help: false,
    });
  });

  it.each([
    [['--orchestrator', 'nomad'], /--orchestrator "nomad" is not one of memory, file, docker, kubernetes/],
    [['--orchestrator'], /--orchestrator needs a value/],
    [['--admin-addr', 'localhost:99999'], /--admin-addr "localhost:99999"/],
    [['--verbose'], /unknown option "--verbose"/],
  ])('refuses %j with an error naming it', (argv, message) => {
    expect(() => parseControlArgs(argv)).toThrow(ControlArgsError);
    expect(() => parseControlArgs(argv)).toThrow(message);
  });
});

describe('orchestratorModules', () => {
  it('gives the memory adapters for the memory orchestrator', () => {
    expect(orchestratorModules('memory').length).toBeGreaterThan(0);
  });

  it('says which orchestrators this build carries when asked for another', () => {
    expect(() => orchestratorModules('kubernetes')).toThrow(OrchestratorUnavailableError);
    expect(() => orchestratorModules('kubernetes')).toThrow(/kubernetes orchestrator .* available: memory/);
  });
});
