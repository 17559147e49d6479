import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { type DockerApiEvent, followDockerEvents, parseDockerEventLine } from './docker-events-stream.js';

/** A stand-in for dockerode whose events stream the test writes, recording the filters it was asked for. */
function engineWithStream(): { docker: Docker; stream: PassThrough; filters: string[] } {
  const stream = new PassThrough();
  const filters: string[] = [];
  const docker = {
    getEvents: async (options: { filters: string }) => {
      filters.push(options.filters);
      return stream;
    },
  } as unknown as Docker;
  return { docker, stream, filters };
}

describe('followDockerEvents', () => {
  it('hands over each event once its line is complete, skipping blank and unreadable lines', async () => {
    const { docker, stream, filters } = engineWithStream();
    const events: DockerApiEvent[] = [];
    await followDockerEvents(docker, { type: ['container'], event: ['start'] }, { onEvent: (event) => events.push(event), onEnd: () => undefined });
    stream.write('{"Type":"container","Action":"sta');
    expect(events).toEqual([]);
    stream.write('rt","id":"c1"}\n\nnot json\n{"Type":"container","Action":"die","id":"c2"}\n');

    expect(events.map((event) => [event.Action, event.id])).toEqual([
      ['start', 'c1'],
      ['die', 'c2'],
    ]);
    expect(JSON.parse(filters[0] ?? '')).toEqual({ type: ['container'], event: ['start'] });
  });

  it('says why when the engine ends the stream, and nothing of the kind when its follower closes it', async () => {
    const dropped = engineWithStream();
    const endings: (Error | undefined)[] = [];
    await followDockerEvents(dropped.docker, {}, { onEvent: () => undefined, onEnd: (error) => endings.push(error) });
    dropped.stream.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(endings).toHaveLength(1);
    expect(endings[0]?.message).toBe('the engine ended the events stream');

    const closed = engineWithStream();
    const closings: (Error | undefined)[] = [];
    const followed = await followDockerEvents(closed.docker, {}, { onEvent: () => undefined, onEnd: (error) => closings.push(error) });
    followed.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(closings).toEqual([undefined]);
  });
});

describe('parseDockerEventLine', () => {
  it('reads a JSON line and leaves out the rest', () => {
    expect(parseDockerEventLine('{"Type":"network","Action":"connect"}')).toEqual({ Type: 'network', Action: 'connect' });
    expect(parseDockerEventLine('   ')).toBeUndefined();
    expect(parseDockerEventLine('{"Type":')).toBeUndefined();
  });
});
