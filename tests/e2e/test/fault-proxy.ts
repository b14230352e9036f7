/**
 * A fault-injecting TCP proxy on loopback (node:net): every connection is forwarded to the
 * target, and the server→client bytes of a connection pass through the active fault once the
 * connection has carried `afterBytes` bytes — so a threshold above the size of the catalog's
 * JSON answers hits only a large download, and `afterBytes: 0` hits every connection.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type FaultKind = 'reset' | 'truncate' | 'stall' | 'trickle' | 'corrupt';

export interface Fault {
  kind: FaultKind;
  /** Bytes (server→client) a connection carries untouched before the fault applies. */
  afterBytes: number;
  /** How many connections the fault applies to; then the proxy passes everything. @default Infinity */
  times?: number;
  /** `stall`: how long the connection hangs (bounded; Infinity hangs until a side closes). @default 1000 */
  stallMs?: number;
  /** `trickle`: bytes per slice and pause between slices. @default 4096 / 10 ms */
  trickleBytes?: number;
  trickleMs?: number;
}

export class FaultProxy {
  private server: Server;
  private fault: Fault | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Connections the fault was applied to. */
  applied = 0;
  /** Connections accepted. */
  connections = 0;
  url = '';

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.onConnection(client));
  }

  async listen(host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, host, r));
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    this.url = `http://${host}:${addr.port}/`;
    return this.url;
  }

  get port(): number {
    const addr = this.server.address();
    return addr && typeof addr !== 'string' ? addr.port : 0;
  }

  setFault(fault: Fault | undefined): void {
    this.fault = fault;
    this.applied = 0;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onConnection(client: Socket): void {
    this.connections += 1;
    const upstream = connect(this.target.port, this.target.host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', () => {
      this.sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      if (!client.destroyed) client.end();
    });
    client.on('error', drop);
    upstream.on('error', drop);
    client.pipe(upstream);

    let seen = 0;
    let mine: Fault | undefined; // the fault this connection got, decided when it crosses the threshold
    let decided = false;
    let trickleQueue: Buffer[] = [];
    let trickling = false;
    const pumpTrickle = (f: Fault): void => {
      if (trickling) return;
      trickling = true;
      const step = (): void => {
        if (client.destroyed) return;
        const head = trickleQueue[0];
        if (!head) {
          trickling = false;
          upstream.resume();
          if (upstream.readableEnded) client.end();
          return;
        }
        const n = f.trickleBytes ?? 4096;
        client.write(head.subarray(0, n));
        if (head.length > n) trickleQueue[0] = head.subarray(n);
        else trickleQueue.shift();
        this.later(f.trickleMs ?? 10, step);
      };
      step();
    };

    upstream.on('data', (chunk: Buffer) => {
      const start = seen;
      seen += chunk.length;
      const f = this.fault;
      if (!decided && f && seen > f.afterBytes) {
        decided = true;
        if (this.applied < (f.times ?? Infinity)) {
          this.applied += 1;
          mine = f;
        }
      }
      if (!mine) {
        client.write(chunk);
        return;
      }
      const cut = Math.max(0, mine.afterBytes - start); // bytes of this chunk before the threshold
      switch (mine.kind) {
        case 'reset':
          client.write(chunk.subarray(0, cut), () => client.resetAndDestroy());
          upstream.destroy();
          return;
        case 'truncate':
          client.end(chunk.subarray(0, cut));
          upstream.destroy();
          return;
        case 'corrupt': {
          const copy = Buffer.from(chunk);
          if (cut < copy.length && start <= mine.afterBytes) copy[cut] = (copy[cut]! ^ 0xff) & 0xff;
          client.write(copy);
          return;
        }
        case 'stall': {
          client.write(chunk.subarray(0, cut));
          upstream.pause();
          const rest = chunk.subarray(cut);
          const f2 = mine;
          mine = undefined; // one stall per connection
          const ms = f2.stallMs ?? 1000;
          if (Number.isFinite(ms)) {
            this.later(ms, () => {
              if (client.destroyed) return;
              client.write(rest);
              upstream.resume();
            });
          }
          return;
        }
        case 'trickle':
          trickleQueue.push(chunk.subarray(cut));
          if (cut > 0) client.write(chunk.subarray(0, cut));
          upstream.pause();
          pumpTrickle(mine);
          return;
      }
    });
    upstream.on('end', () => {
      if (mine?.kind === 'trickle' && (trickling || trickleQueue.length)) return; // ended by the pump
      if (!client.destroyed) client.end();
    });
  }
}
