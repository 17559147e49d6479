import { describe, expect, it } from 'vitest';
import { TapHeaderDenyList, parseTapDenyHeaders } from './tap-header-deny-list.js';
import { tapHeaderPicker } from './tap-headers.js';

const deny = TapHeaderDenyList.DEFAULT;

describe('tapHeaderPicker', () => {
  it('copies nothing when no header is asked for', () => {
    expect(tapHeaderPicker([], deny)({ 'user-agent': 'curl/8' })).toEqual([]);
  });

  it('copies the asked names from a record, one entry per value, and lower-cases names', () => {
    const pick = tapHeaderPicker(['Accept', 'content-length', 'x-multi'], deny);

    expect(pick({ Accept: 'text/html', 'content-length': 42, 'x-multi': ['a', 'b'], 'x-other': 'no', 'x-undefined': undefined })).toEqual([
      { name: 'accept', value: 'text/html' },
      { name: 'content-length', value: '42' },
      { name: 'x-multi', value: 'a' },
      { name: 'x-multi', value: 'b' },
    ]);
  });

  it('reads flat raw lists of strings or bytes, decoding bytes as ISO-8859-1', () => {
    const pick = tapHeaderPicker(['*'], deny);
    const raw = [Buffer.from('X-Name'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('Cookie'), Buffer.from('a=b')];

    expect(pick(raw)).toEqual([{ name: 'x-name', value: 'café' }]);
    expect(pick(['Host', 'web', 'Authorization', 'Basic x', 'dangling'])).toEqual([{ name: 'host', value: 'web' }]);
  });

  it('never copies pseudo-headers, nor denied headers even when named', () => {
    const pick = tapHeaderPicker([':path', 'authorization', 'x-csrf-token', 'x-id'], deny);

    expect(pick({ ':path': '/', authorization: 'Bearer x', 'x-csrf-token': 't', 'x-id': '7' })).toEqual([{ name: 'x-id', value: '7' }]);
  });

  it('applies the operator deny list to "*"', () => {
    const operator = parseTapDenyHeaders('x-api-key');
    if (!operator.ok) throw operator.error;
    const pick = tapHeaderPicker(['*'], operator.value);

    expect(pick({ 'x-api-key': 'k', 'set-cookie': ['a', 'b'], accept: '*/*' })).toEqual([{ name: 'accept', value: '*/*' }]);
  });

  it('treats "*" among other names as a header name, not as "all"', () => {
    expect(tapHeaderPicker(['*', 'accept'], deny)({ accept: 'x', host: 'web' })).toEqual([{ name: 'accept', value: 'x' }]);
  });

  it('copies nothing from absent headers', () => {
    expect(tapHeaderPicker(['*'], deny)(undefined)).toEqual([]);
  });
});
