/**
 * A client for BIRD's control socket (what birdc speaks), for polling without spawning a
 * process per question. Each reply line starts with a 4-digit code; `-` after it means more
 * lines follow, a space ends the reply; lines starting with a space continue the previous one.
 */
import { createConnection, type Socket } from 'node:net';

export class BirdCtl {
  private buf = '';
  private lines: string[] = [];
  private waiter: (() => void) | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      const parts = this.buf.split('\n');
      this.buf = parts.pop() ?? '';
      this.lines.push(...parts);
      this.waiter?.();
    });
  }

  static async connect(path: string): Promise<BirdCtl> {
    const sock = createConnection(path);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const ctl = new BirdCtl(sock);
    await ctl.reply(); // 0001 BIRD x.y.z ready.
    return ctl;
  }

  /** Waits for one whole reply (up to the line whose code is followed by a space). */
  private async reply(): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      while (this.lines.length > 0) {
        const l = this.lines.shift()!;
        out.push(l);
        if (/^\d{4} /.test(l)) return out;
      }
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = undefined;
    }
  }

  /** One command; replies come back in order. */
  command(cmd: string): Promise<string[]> {
    const run = this.chain.then(async () => {
      this.sock.write(`${cmd}\n`);
      return this.reply();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Whether the table holds a route for exactly this prefix. */
  async hasRoute(prefix: string): Promise<boolean> {
    const r = await this.command(`show route ${prefix}`);
    return r.some((l) => l.includes(prefix));
  }

  /** Routes in all tables (`show route count`). */
  async routeCount(): Promise<number> {
    const r = await this.command('show route count');
    const total = r.find((l) => l.includes('Total:')) ?? r.join(' ');
    const m = /(\d+) of \d+ routes/.exec(total);
    return m ? Number(m[1]) : 0;
  }

  /** The state column of `show protocols NAME` (e.g. Established). */
  async protocolInfo(name: string): Promise<string> {
    return (await this.command(`show protocols ${name}`)).join('\n');
  }

  close(): void {
    this.sock.destroy();
  }
}
