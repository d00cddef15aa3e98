// Starts librdkafka's mock Kafka cluster (test/tools/mock-cluster.c) as a child process: a second,
// independent broker implementation for interop tests. The binary is built on first use.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './repo-root.js';

export interface MockTopic {
  name: string;
  partitions?: number;
  replicationFactor?: number;
}

export interface MockClusterOptions {
  /** Number of brokers (default 1). */
  brokers?: number;
  /** Topics to create up front; a string is a topic name with one partition. */
  topics?: (string | MockTopic)[];
}

export interface MockCluster {
  /** Comma-separated host:port list, one per broker. */
  bootstrap: string;
  stop(): Promise<void>;
}

/** Path of the mock cluster binary, building it first if it is missing or older than its source. */
export function mockClusterBinary(): string {
  const root = repoRoot();
  const result = spawnSync('bash', [join(root, 'scripts', 'build-mock-cluster.sh')], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`build-mock-cluster.sh failed (${result.status}): ${result.stderr || result.stdout}`);
  }
  const binary = join(root, '.tools', 'mock-cluster');
  if (!existsSync(binary)) throw new Error(`mock cluster binary missing after build: ${binary}`);
  return binary;
}

export async function startMockCluster(options: MockClusterOptions = {}): Promise<MockCluster> {
  const brokers = options.brokers ?? 1;
  const topicArgs = (options.topics ?? []).map((t) =>
    typeof t === 'string' ? `${t}:1` : `${t.name}:${t.partitions ?? 1}:${t.replicationFactor ?? 1}`,
  );
  const child = spawn(mockClusterBinary(), [String(brokers), ...topicArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const bootstrap = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const fail = (why: string) => reject(new Error(`mock cluster did not start: ${why}\n${stderr}`));
    lines.once('line', (line) => {
      lines.close();
      if (/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/.test(line.trim())) resolve(line.trim());
      else fail(`unexpected first line ${JSON.stringify(line)}`);
    });
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited with ${code ?? signal}`));
  });

  let stopped: Promise<void> | undefined;
  return {
    bootstrap,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        // Closing stdin is the normal shutdown; signals are the fallback for a wedged process.
        child.stdin.end();
        const term = setTimeout(() => child.kill('SIGTERM'), 3000);
        const kill = setTimeout(() => child.kill('SIGKILL'), 6000);
        await exited;
        clearTimeout(term);
        clearTimeout(kill);
      })();
      return stopped;
    },
  };
}
