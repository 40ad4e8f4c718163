import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, sleep } from '@gridstream/testkit';

export interface EdgeEvent {
  event: string;
  [key: string]: unknown;
}

/**
 * The independent Sparkplug B edge node (test/peers/sparkplug_edge_node.py, pysparkplug) as a child
 * process: commands as JSON lines on its stdin, its events read back from its stdout.
 */
export class EdgeNodePeer {
  readonly events: EdgeEvent[] = [];
  private stderr = '';
  private readonly closed: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as EdgeEvent);
      } catch {
        this.stderr += `${line}\n`;
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
  }

  static start(options: {
    port: number;
    group: string;
    node: string;
    devices: string[];
    qos?: 0 | 1;
    bdSeq?: number;
  }): EdgeNodePeer {
    const python = execFileSync(join(REPO_ROOT, 'deploy/local/mosquitto.sh'), ['python'], {
      encoding: 'utf8',
    }).trim();
    const args = [
      join(REPO_ROOT, 'test/peers/sparkplug_edge_node.py'),
      '--port',
      String(options.port),
      '--group',
      options.group,
      '--node',
      options.node,
      '--qos',
      String(options.qos ?? 0),
      '--bd-seq',
      String(options.bdSeq ?? 0),
      ...options.devices.flatMap((d) => ['--device', d]),
    ];
    return new EdgeNodePeer(spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  /** Waits until `event` has been reported `times` times in all. */
  async waitFor(event: string, times = 1, timeoutMs = 20_000): Promise<EdgeEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(event) < times) {
      if (this.child.exitCode !== null)
        throw new Error(
          `the edge node exited (${this.child.exitCode}) waiting for ${event}:\n${this.stderr}`,
        );
      if (Date.now() > deadline)
        throw new Error(
          `no ${event} ×${times} from the edge node; events: ${JSON.stringify(this.events)}\n${this.stderr}`,
        );
      await sleep(50);
    }
    return this.events.filter((e) => e.event === event)[times - 1]!;
  }

  /** SIGKILL: the TCP connection drops without DISCONNECT, so the broker publishes the node's will (NDEATH). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.closed;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ cmd: 'stop' });
    await Promise.race([this.closed, sleep(5_000)]);
    await this.kill();
  }
}
