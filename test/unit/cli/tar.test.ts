import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { tarArchive } from '../../../src/cli/tar.js';

describe('tar writer', () => {
  it('writes an archive GNU tar lists and extracts byte for byte, long paths included', () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(90)}.log`;
    const entries = [
      { name: 'a/one.txt', data: Buffer.from('hello\n'), mtime: 1_767_225_600 },
      { name: 'a/empty', data: Buffer.alloc(0), mtime: 1_767_225_600 },
      { name: long, data: Buffer.alloc(1500, 0x61), mtime: 1_767_225_600 },
    ];
    const tar = tarArchive(entries);
    expect(tar.length % 512).to.equal(0);
    const list = spawnSync('tar', ['-tf', '-'], { input: tar, encoding: 'utf8' });
    expect(list.status, list.stderr).to.equal(0);
    expect(list.stdout.trim().split('\n')).to.deep.equal(['a/one.txt', 'a/empty', long]);
    for (const e of entries) {
      const x = spawnSync('tar', ['-xOf', '-', e.name], { input: tar });
      expect(x.status).to.equal(0);
      expect(Buffer.compare(x.stdout, e.data)).to.equal(0, e.name);
    }
  });

  it('refuses a path ustar cannot hold', () => {
    expect(() => tarArchive([{ name: 'x'.repeat(300), data: Buffer.alloc(0), mtime: 0 }])).to.throw(/path too long/);
  });
});
