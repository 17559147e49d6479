import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarArchive } from './tar-archive.js';

describe('tarArchive', () => {
  it('writes files that tar extracts with their content and mode', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-tar-'));
    try {
      const archive = tarArchive([
        { name: 'token', content: 'secret-token', mode: 0o400, uid: 2102, gid: 2102 },
        { name: 'trust-anchors.pem', content: 'x'.repeat(1_000), mode: 0o444, uid: 2102, gid: 2102 },
      ]);
      expect(archive.length % 512).toBe(0);
      writeFileSync(join(dir, 'a.tar'), archive);
      const listing = execFileSync('tar', ['-tvf', join(dir, 'a.tar')], { encoding: 'utf8' });
      expect(listing).toMatch(/^-r-------- 2102\/2102\s+12 .* token$/m);
      execFileSync('tar', ['-xf', 'a.tar'], { cwd: dir });
      expect(readFileSync(join(dir, 'token'), 'utf8')).toBe('secret-token');
      expect(readFileSync(join(dir, 'trust-anchors.pem'), 'utf8')).toHaveLength(1_000);
      expect(statSync(join(dir, 'trust-anchors.pem')).mode & 0o777).toBe(0o444);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses names that would leave the target folder', () => {
    expect(() => tarArchive([{ name: '../etc/passwd', content: '', mode: 0o644, uid: 0, gid: 0 }])).toThrow(/"\.\.\/etc\/passwd"/);
    expect(() => tarArchive([{ name: '/abs', content: '', mode: 0o644, uid: 0, gid: 0 }])).toThrow(RangeError);
  });
});
