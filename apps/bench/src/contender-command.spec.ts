import { describe, expect, it } from 'vitest';
import { expandContenderCommand, InvalidContenderCommandError, parseContenderCommand } from './contender-command.js';

describe('parseContenderCommand', () => {
  it('reads a name, all modes by default, and the command', () => {
    const result = parseContenderCommand('weft=node apps/proxy/dist/main.js --listen 127.0.0.1:{port} --upstream {upstream}');
    expect(result.ok && result.value).toEqual({
      name: 'weft',
      modes: ['http1', 'h2c', 'tcp'],
      command: 'node apps/proxy/dist/main.js --listen 127.0.0.1:{port} --upstream {upstream}',
    });
  });

  it('reads a list of modes', () => {
    const result = parseContenderCommand('weft:http1,h2c=proxy --port {port}');
    expect(result.ok && result.value.modes).toEqual(['http1', 'h2c']);
  });

  it.each([
    ['no-equals-sign', 'expected name[:modes]=command'],
    ['weft:http3=proxy {port}', 'mode "http3"'],
    ['weft=proxy --port {port} --to {backend}', 'placeholder {backend} is unknown'],
    ['weft=proxy --upstream {upstream}', 'never uses {port}'],
  ])('rejects %j', (input, hint) => {
    const result = parseContenderCommand(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidContenderCommandError);
    expect(result.error.input).toBe(input);
    expect(result.error.message).toContain(hint);
  });
});

describe('expandContenderCommand', () => {
  it('replaces every placeholder, as often as it appears', () => {
    const command = expandContenderCommand('env WEFT_LISTEN=127.0.0.1:{port} WEFT_UPSTREAM={upstream} proxy --mode {mode} --port {port} -c {dir}/x', {
      port: '4100',
      upstream: '127.0.0.1:4200',
      upstream_host: '127.0.0.1',
      upstream_port: '4200',
      mode: 'h2c',
      dir: '/tmp/w',
    });
    expect(command).toBe('env WEFT_LISTEN=127.0.0.1:4100 WEFT_UPSTREAM=127.0.0.1:4200 proxy --mode h2c --port 4100 -c /tmp/w/x');
  });
});
