// Plumbing for the consumer-group integration tests: an embedded broker that can restart on its data dir,
// long-running consumer processes (kafka-python, confluent-kafka, kcat -G) that report what they are assigned
// and what they read as JSON lines, and a producer.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateTopics } from '../../src/protocol/messages/create-topics.js';
import { Produce } from '../../src/protocol/messages/produce.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { Broker } from '../../src/server/broker.js';
import { createLogger } from '../../src/util/logger.js';
import { WireClient } from '../tools/wire-client.js';

export const PYTHON = '/usr/bin/python3';

/** Broker settings that keep group tests fast: short sessions allowed, a short initial rebalance delay. */
export const FAST_GROUPS: Record<string, string> = {
  'num.io.threads': '1',
  'offsets.topic.num.partitions': '5',
  'group.initial.rebalance.delay.ms': '300',
  'group.min.session.timeout.ms': '500',
};

export class GroupTestBroker {
  broker: Broker;
  readonly dataDir: string;
  readonly #config: Record<string, string>;
  #port: number;

  private constructor(broker: Broker, dataDir: string, config: Record<string, string>) {
    this.broker = broker;
    this.dataDir = dataDir;
    this.#config = config;
    this.#port = broker.port;
  }

  static async start(config: Record<string, string> = {}): Promise<GroupTestBroker> {
    const dataDir = mkdtempSync(join(tmpdir(), 'fjord-groups-'));
    const merged = { ...FAST_GROUPS, ...config };
    const broker = await Broker.start({ dataDir, port: 0, config: merged, log: createLogger('warn') });
    return new GroupTestBroker(broker, dataDir, merged);
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** A clean stop and a start on the same data dir and port (clients reconnect to the same address). */
  async restart(): Promise<void> {
    await this.broker.stop();
    this.broker = await Broker.start({
      dataDir: this.dataDir,
      port: this.#port,
      config: this.#config,
      log: createLogger('warn'),
    });
  }

  async close(): Promise<void> {
    await this.broker.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async createTopic(name: string, partitions: number): Promise<void> {
    const client = await WireClient.connect(this.#port);
    try {
      const response = await client.send(CreateTopics, 5, {
        topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      if (response.topics[0]!.errorCode !== 0)
        throw new Error(`create ${name}: ${response.topics[0]!.errorCode}`);
    } finally {
      client.close();
    }
  }

  /** Appends `count` records "p<partition>-<n>" (n from `from`) to each partition. */
  async produce(topic: string, partitions: number, count: number, from = 0): Promise<void> {
    const client = await WireClient.connect(this.#port);
    try {
      const response = await client.send(Produce, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5000,
        topicData: [
          {
            name: topic,
            partitionData: Array.from({ length: partitions }, (_, index) => ({
              index,
              records: buildRecordBatchSync(
                Array.from({ length: count }, (_, n) => ({
                  key: null,
                  value: Buffer.from(`p${index}-${from + n}`),
                })),
              ),
            })),
          },
        ],
      });
      for (const p of response.responses[0]!.partitionResponses) {
        if (p.errorCode !== 0) throw new Error(`produce to ${topic}-${p.index}: ${p.errorCode}`);
      }
    } finally {
      client.close();
    }
  }
}

export interface ConsumedRecord {
  partition: number;
  offset: number;
  value: string;
}

export type ConsumerEvent =
  | { event: 'assigned'; partitions: number[] }
  | { event: 'revoked'; partitions: number[] }
  | { event: 'record'; partition: number; offset: number; value: string }
  | { event: 'error'; type: string; message: string };

/** A consumer process that prints one JSON event per line. */
export class ConsumerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly events: ConsumerEvent[] = [];
  readonly stderr: string[] = [];
  #waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(name: string, command: string, args: string[]) {
    this.name = name;
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as ConsumerEvent);
      } catch {
        this.stderr.push(`stdout: ${line}`);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve(code);
      }),
    );
  }

  /** The partitions of the latest assignment (empty before the first, or after a revoke with none since). */
  get assignment(): number[] {
    let current: number[] = [];
    for (const e of this.events) {
      if (e.event === 'assigned') current = [...e.partitions].sort((a, b) => a - b);
      else if (e.event === 'revoked') current = current.filter((p) => !e.partitions.includes(p));
    }
    return current;
  }

  get records(): ConsumedRecord[] {
    return this.events.flatMap((e) =>
      e.event === 'record' ? [{ partition: e.partition, offset: e.offset, value: e.value }] : [],
    );
  }

  /** Resolves once `check` holds over the events so far; rejects after `timeoutMs` with what was seen. */
  async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.name}: timed out waiting for ${what}; assignment ${JSON.stringify(this.assignment)}, ` +
            `${this.records.length} records; stderr: ${this.stderr.slice(-5).join(' | ')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Waits until `check` holds, polling; throws `what` after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// kafka-python 2.0.2: subscribe, print assignments and records, commit synchronously after every poll with
// records (so at most one poll's worth is uncommitted). SIGTERM closes the consumer (a clean LeaveGroup).
const KAFKA_PYTHON_CONSUMER = `
import json, signal, sys
from kafka import KafkaConsumer, ConsumerRebalanceListener
from kafka.errors import KafkaError
opts = json.loads(sys.argv[1])
def out(o):
    sys.stdout.write(json.dumps(o) + "\\n"); sys.stdout.flush()
class Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        out({"event": "revoked", "partitions": sorted(p.partition for p in revoked)})
    def on_partitions_assigned(self, assigned):
        out({"event": "assigned", "partitions": sorted(p.partition for p in assigned)})
consumer = KafkaConsumer(
    bootstrap_servers=opts["bootstrap"], group_id=opts["group"], client_id=opts.get("client_id", "kp"),
    auto_offset_reset=opts.get("reset", "earliest"), enable_auto_commit=False,
    session_timeout_ms=opts.get("session_timeout_ms", 3000), heartbeat_interval_ms=opts.get("heartbeat_ms", 300),
    max_poll_records=opts.get("max_poll_records", 5), api_version_auto_timeout_ms=10000)
stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
consumer.subscribe([opts["topic"]], listener=Listener())
try:
    while not stopping:
        batches = consumer.poll(timeout_ms=100)
        for tp, records in batches.items():
            for r in records:
                out({"event": "record", "partition": tp.partition, "offset": r.offset, "value": r.value.decode()})
        if batches:
            consumer.commit()
except KafkaError as e:
    out({"event": "error", "type": type(e).__name__, "message": str(e)})
except Exception as e:
    out({"event": "error", "type": type(e).__name__, "message": str(e)})
    sys.exit(1)
consumer.close()
`;

export interface KafkaPythonOptions {
  bootstrap: string;
  group: string;
  topic: string;
  reset?: 'earliest' | 'latest' | 'none';
  session_timeout_ms?: number;
  heartbeat_ms?: number;
  max_poll_records?: number;
  client_id?: string;
}

export function kafkaPythonConsumer(name: string, options: KafkaPythonOptions): ConsumerProcess {
  return new ConsumerProcess(name, PYTHON, ['-c', KAFKA_PYTHON_CONSUMER, JSON.stringify(options)]);
}

// confluent-kafka 1.7 (librdkafka 2.0.2), optionally a static member (group.instance.id) or with the
// cooperative (incremental) protocol. Commits each record synchronously.
const CONFLUENT_CONSUMER = `
import json, signal, sys
from confluent_kafka import Consumer
opts = json.loads(sys.argv[1])
def out(o):
    sys.stdout.write(json.dumps(o) + "\\n"); sys.stdout.flush()
conf = {"bootstrap.servers": opts["bootstrap"], "group.id": opts["group"], "auto.offset.reset": "earliest",
        "session.timeout.ms": opts.get("session_timeout_ms", 3000), "heartbeat.interval.ms": 300,
        "enable.auto.commit": False}
if opts.get("instance"): conf["group.instance.id"] = opts["instance"]
cooperative = opts.get("strategy") == "cooperative-sticky"
if opts.get("strategy"): conf["partition.assignment.strategy"] = opts["strategy"]
consumer = Consumer(conf)
stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
current = set()
# Cooperative callbacks carry increments; the events always report the whole current assignment.
def on_assign(c, ps):
    global current
    current = (current | {p.partition for p in ps}) if cooperative else {p.partition for p in ps}
    out({"event": "assigned", "partitions": sorted(current)})
def on_revoke(c, ps):
    global current
    current = current - {p.partition for p in ps}
    out({"event": "revoked", "partitions": sorted(p.partition for p in ps)})
consumer.subscribe([opts["topic"]], on_assign=on_assign, on_revoke=on_revoke)
while not stopping:
    m = consumer.poll(0.1)
    if m is None: continue
    if m.error():
        out({"event": "error", "type": str(m.error().code()), "message": str(m.error())}); continue
    out({"event": "record", "partition": m.partition(), "offset": m.offset(), "value": m.value().decode()})
    consumer.commit(message=m, asynchronous=False)
consumer.close()
`;

export function confluentConsumer(
  name: string,
  options: {
    bootstrap: string;
    group: string;
    topic: string;
    instance?: string;
    session_timeout_ms?: number;
    /** librdkafka partition.assignment.strategy, e.g. cooperative-sticky. */
    strategy?: string;
  },
): ConsumerProcess {
  return new ConsumerProcess(name, PYTHON, ['-c', CONFLUENT_CONSUMER, JSON.stringify(options)]);
}

/** Every record read by any of the consumers, as "partition:offset". */
export function consumedKeys(consumers: ConsumerProcess[]): string[] {
  return consumers.flatMap((c) => c.records.map((r) => `${r.partition}:${r.offset}`));
}

/** Whether the latest assignments of `consumers` cover `partitions` exactly once each. */
export function splitsExactly(consumers: ConsumerProcess[], partitions: number): boolean {
  const all = consumers.flatMap((c) => c.assignment).sort((a, b) => a - b);
  return (
    all.length === partitions &&
    all.every((p, i) => p === i) &&
    consumers.every((c) => c.assignment.length > 0)
  );
}
