import { formatAuthority, parseAuthority, unwrap } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';
import { destinationRequestFor, readDestinationRequest } from './destination-request.js';

describe('readDestinationRequest', () => {
  it('reads the authorities a proxy sends, and the context token', () => {
    for (const path of ['web:8080', 'web.shop.svc.cluster.local:8080', '10.42.0.7:8080', '[fd00::7]:8080', 'api.example.com:443']) {
      const read = readDestinationRequest({ path, contextToken: '{"ns":"shop","workload":"checkout"}' });
      expect(read.ok && formatAuthority(read.value.target)).toBe(formatAuthority(unwrap(parseAuthority(path))));
      expect(read.ok && read.value.context).toEqual({ ns: 'shop', workload: 'checkout' });
    }
  });

  it('reads back what a client sends for any target', () => {
    const target = unwrap(parseAuthority('web.shop:8080'));
    const read = readDestinationRequest(destinationRequestFor(target));
    expect(read.ok && read.value.target).toEqual(target);
  });

  it.each([
    ['web', 'path', 'has no port'],
    ['fd00::7', 'path', 'has no port'],
    ['http://web:80', 'path', 'scheme'],
    ['', 'path', 'empty'],
  ])('refuses path %j, naming the field', (path, field, words) => {
    const read = readDestinationRequest({ path, contextToken: '' });
    const error = read.ok ? undefined : read.error;
    expect(error).toBeInstanceOf(InvalidWireMessageError);
    expect(error?.field).toBe(field);
    expect(error?.input).toBe(path);
    expect(error?.describeRequestField('GetDestination')).toMatch(new RegExp(`^invalid GetDestination\\.path .*${words}`));
  });

  it.each(['not json', '[1,2]', '"text"', 'x'.repeat(5_000)])('refuses context token %j, naming the field', (contextToken) => {
    const read = readDestinationRequest({ path: 'web:80', contextToken });
    const error = read.ok ? undefined : read.error;
    expect(error).toBeInstanceOf(InvalidWireMessageError);
    expect(error?.field).toBe('context_token');
    expect(error?.input).toBe(contextToken.slice(0, 80));
  });
});
