import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createWinstonLogger } from '../../../src/cli/logging.js';

function sink(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  return { stream, lines: () => Buffer.concat(chunks).toString().split('\n').filter(Boolean) };
}

async function flush(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('cli/logging (winston adapter)', () => {
  it('writes one JSON object a line when not pretty, with child fields merged', async () => {
    const s = sink();
    const log = createWinstonLogger({ level: 'info', pretty: false, stream: s.stream });
    log.child({ component: 'controller' }).info('assigned', { service: 'default/web', ip: '192.0.2.1' });
    await flush();
    const rec = JSON.parse(s.lines()[0]!) as Record<string, unknown>;
    expect(rec).to.include({
      level: 'info',
      message: 'assigned',
      component: 'controller',
      service: 'default/web',
      ip: '192.0.2.1',
    });
    expect(rec['timestamp']).to.be.a('string');
  });

  it('honours the level', async () => {
    const s = sink();
    const log = createWinstonLogger({ level: 'warn', pretty: false, stream: s.stream });
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    log.error('shown too');
    await flush();
    expect(s.lines().map((l) => (JSON.parse(l) as { message: string }).message)).to.deep.equal(['shown', 'shown too']);
  });

  it('writes readable key=value lines when pretty', async () => {
    const s = sink();
    const log = createWinstonLogger({ level: 'debug', pretty: true, stream: s.stream });
    log.debug('peer up', { peer: '192.0.2.254' });
    await flush();
    const line = s.lines()[0]!;
    expect(() => JSON.parse(line)).to.throw();
    expect(line).to.match(/peer up peer=192\.0\.2\.254$/);
  });
});
