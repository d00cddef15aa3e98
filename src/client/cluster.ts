// The client's view of a cluster: bootstrap addresses, the brokers and partition leaders from Metadata, and
// one BrokerConnection per broker, opened on demand and reopened with exponential backoff after a failure.
// Producer, Admin and (later) Consumer share this layer; each owns one Cluster.
import { Metadata, type ApiDescriptor, type MetadataResponse } from '../protocol/messages/index.js';
import { errorInfo } from '../protocol/error-codes.js';
import { BrokerConnection, type RequestOptions } from './connection.js';
import { ClientError, KafkaError, isRetriable, needsMetadataRefresh } from './errors.js';

/** Options every client (Producer, Admin, Consumer) accepts. */
export interface ClientOptions {
  /** Bootstrap brokers, 'host:port'; a string, or any element of the array, may be a comma-separated list. */
  brokers: string[] | string;
  /** Sent in every request header (default 'fjord'). */
  clientId?: string;
  /** request.timeout.ms: how long to wait for one response (default 30000). */
  requestTimeoutMs?: number;
  /** socket.connection.setup.timeout.ms (default 10000). */
  connectTimeoutMs?: number;
  /** retry.backoff.ms: first wait before a retry (default 100). */
  retryBackoffMs?: number;
  /** retry.backoff.max.ms / reconnect.backoff.max.ms: longest wait between attempts (default 1000). */
  retryBackoffMaxMs?: number;
  /** How many times a failed request is retried when the error is retriable (default 5; the producer retries until its delivery timeout). */
  retries?: number;
  /** metadata.max.age.ms: refresh metadata at least this often (default 300000). */
  metadataMaxAgeMs?: number;
  /** Where warnings go (default console.warn). */
  logger?: { warn(message: string): void };
}

/** A broker as Metadata describes it. */
export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** A partition as Metadata describes it. */
export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

/** A topic as Metadata describes it. */
export interface TopicInfo {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: PartitionInfo[];
}

interface NodeState {
  connection?: BrokerConnection;
  connecting?: Promise<BrokerConnection>;
  failures: number;
  nextAttemptAt: number;
}

/** A bootstrap address is addressed with a negative id until Metadata names the broker. */
const BOOTSTRAP_ID_BASE = -1000;

/**
 * Bootstrap addresses from `brokers`: 'host:port' entries, where a string or any array element may hold a
 * comma-separated list ('a:9092,b:9092'), as Kafka's bootstrap.servers does. A missing port is 9092; an IPv6
 * host is written in brackets ('[::1]:9092'). Throws INVALID_ARGUMENT for an entry no socket could use.
 */
export function parseBrokers(brokers: string[] | string): { host: string; port: number }[] {
  const list = (Array.isArray(brokers) ? brokers : [brokers])
    .flatMap((b) => (typeof b === 'string' ? b.split(',') : [b]))
    .map((b) => (typeof b === 'string' ? b.trim() : b))
    .filter((b) => b !== '');
  if (list.length === 0)
    throw new ClientError('INVALID_ARGUMENT', 'brokers: at least one host:port is needed');
  const seen = new Set<string>();
  const out: { host: string; port: number }[] = [];
  for (const entry of list) {
    if (typeof entry !== 'string')
      throw new ClientError('INVALID_ARGUMENT', `brokers: ${String(entry)} is not a 'host:port' string`);
    const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
    const at = entry.lastIndexOf(':');
    let host: string;
    let portText: string | undefined;
    if (bracketed) {
      host = bracketed[1]!;
      portText = bracketed[2];
    } else if (at >= 0 && entry.indexOf(':') === at) {
      host = entry.slice(0, at);
      portText = entry.slice(at + 1);
    } else if (at < 0) {
      host = entry;
    } else {
      throw new ClientError(
        'INVALID_ARGUMENT',
        `brokers: ${JSON.stringify(entry)} has several ':'; write an IPv6 address as [addr]:port`,
      );
    }
    // A host with spaces or separators is a typo (or a list in some other format), never a resolvable name.
    if (host === '' || /[\s/\\;,@]/.test(host)) {
      throw new ClientError('INVALID_ARGUMENT', `brokers: bad host in ${JSON.stringify(entry)}`);
    }
    const port = portText === undefined ? 9092 : /^\d+$/.test(portText) ? Number(portText) : NaN;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new ClientError('INVALID_ARGUMENT', `brokers: bad port in ${JSON.stringify(entry)}`);
    }
    const key = `${host}:${port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ host, port });
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Cluster {
  readonly clientId: string;
  readonly options: Required<Omit<ClientOptions, 'brokers' | 'logger'>> & {
    logger: { warn(message: string): void };
  };
  readonly #bootstrap: { host: string; port: number }[];
  readonly #brokers = new Map<number, BrokerInfo>();
  readonly #nodes = new Map<number, NodeState>();
  readonly #topics = new Map<string, TopicInfo>();
  /** Topics the owner wants kept fresh; a metadata refresh asks for all of them. */
  readonly #wanted = new Set<string>();
  #controllerId = -1;
  #clusterId: string | null = null;
  #metadataAt = 0;
  #refreshing: Promise<void> | undefined;
  #closed = false;
  #allowAutoTopicCreation = false;
  /** Whether any broker (bootstrap or named by Metadata) was ever reached; until then failures are bootstrap ones. */
  #everConnected = false;
  #failedConnects = 0;
  #firstConnectAt = 0;

  constructor(options: ClientOptions, defaults: { allowAutoTopicCreation?: boolean } = {}) {
    this.#bootstrap = parseBrokers(options.brokers);
    this.clientId = options.clientId ?? 'fjord';
    this.#allowAutoTopicCreation = defaults.allowAutoTopicCreation ?? false;
    this.options = {
      clientId: this.clientId,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      retryBackoffMaxMs: options.retryBackoffMaxMs ?? 1000,
      retries: options.retries ?? 5,
      metadataMaxAgeMs: options.metadataMaxAgeMs ?? 300_000,
      logger: options.logger ?? { warn: (message) => console.warn(`[fjord client] ${message}`) },
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  get controllerId(): number {
    return this.#controllerId;
  }

  get clusterId(): string | null {
    return this.#clusterId;
  }

  brokers(): BrokerInfo[] {
    return [...this.#brokers.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  /** Names of the topics in cached metadata (after refreshMetadata({ all: true }): every topic). */
  topicNames(): string[] {
    return [...this.#topics.keys()];
  }

  topic(name: string): TopicInfo | undefined {
    return this.#topics.get(name);
  }

  /** Backoff before attempt `attempt` (0-based): exponential with ±20% jitter, capped. */
  backoff(attempt: number): number {
    const base = Math.min(this.options.retryBackoffMaxMs, this.options.retryBackoffMs * 2 ** attempt);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  #address(nodeId: number): { host: string; port: number } {
    const broker = this.#brokers.get(nodeId);
    if (broker !== undefined) return broker;
    const bootstrap = this.#bootstrap[BOOTSTRAP_ID_BASE - nodeId];
    if (bootstrap !== undefined) return bootstrap;
    throw new ClientError('METADATA_UNAVAILABLE', `broker ${nodeId} is not in the cluster metadata`);
  }

  /** The open connection to `nodeId`, connecting (after any backoff that is due) when needed. */
  async connection(nodeId: number): Promise<BrokerConnection> {
    if (this.#closed) throw new ClientError('CLIENT_CLOSED', 'the client is closed');
    let state = this.#nodes.get(nodeId);
    if (state === undefined) {
      state = { failures: 0, nextAttemptAt: 0 };
      this.#nodes.set(nodeId, state);
    }
    if (state.connection?.isOpen) return state.connection;
    if (state.connecting !== undefined) return state.connecting;
    const node = state;
    node.connecting = (async () => {
      const wait = node.nextAttemptAt - Date.now();
      if (wait > 0) await sleep(wait);
      if (this.#closed) throw new ClientError('CLIENT_CLOSED', 'the client is closed');
      const { host, port } = this.#address(nodeId);
      if (this.#firstConnectAt === 0) this.#firstConnectAt = Date.now();
      const connection = new BrokerConnection({
        host,
        port,
        clientId: this.clientId,
        connectTimeoutMs: this.options.connectTimeoutMs,
        requestTimeoutMs: this.options.requestTimeoutMs,
      });
      try {
        await connection.connect();
      } catch (error) {
        node.nextAttemptAt = Date.now() + this.backoff(node.failures++);
        this.#failedConnects++;
        throw error;
      }
      node.failures = 0;
      this.#everConnected = true;
      node.connection = connection;
      return connection;
    })().finally(() => {
      node.connecting = undefined;
    });
    return node.connecting;
  }

  /** Any reachable broker: known brokers first, then the bootstrap list. */
  async anyConnection(): Promise<{ nodeId: number; connection: BrokerConnection }> {
    const ids = [...this.#brokers.keys(), ...this.#bootstrap.map((_, i) => BOOTSTRAP_ID_BASE - i)];
    const open = ids.find((id) => this.#nodes.get(id)?.connection?.isOpen);
    if (open !== undefined) return { nodeId: open, connection: await this.connection(open) };
    // Prefer the node whose backoff ends first, so a restarted broker is found quickly.
    ids.sort((a, b) => (this.#nodes.get(a)?.nextAttemptAt ?? 0) - (this.#nodes.get(b)?.nextAttemptAt ?? 0));
    let last: unknown;
    for (const id of ids) {
      try {
        return { nodeId: id, connection: await this.connection(id) };
      } catch (error) {
        last = error;
      }
    }
    throw last instanceof Error ? last : new ClientError('CONNECTION_ERROR', 'no broker reachable');
  }

  /** Sends one request to one broker (no retries). */
  async send<Req, Resp, ReqIn>(
    nodeId: number,
    api: ApiDescriptor<Req, Resp, ReqIn, unknown>,
    body: ReqIn,
    options?: RequestOptions,
  ): Promise<Resp> {
    const connection = await this.connection(nodeId);
    return connection.request(api, body, options);
  }

  /**
   * Runs `attempt` until it succeeds, it throws a non-retriable error, `retries` retries are used up, or the
   * next try would start after `deadline` (ms since the epoch). Metadata is refreshed before a retry when the
   * error suggests it is stale.
   */
  async withRetries<T>(
    attempt: (try_: number) => Promise<T>,
    retries = this.options.retries,
    deadline = Infinity,
  ): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await attempt(i);
      } catch (error) {
        if (this.#closed || !isRetriable(error)) throw error;
        if (i >= retries) throw this.#givingUp(error);
        const wait = this.backoff(i);
        if (Date.now() + wait > deadline) throw this.#givingUp(error);
        await sleep(wait);
        if (needsMetadataRefresh(error)) await this.refreshMetadata().catch(() => undefined);
      }
    }
  }

  /**
   * The error to surface when retries run out: a connection failure before any broker was ever reached
   * becomes a CONNECTION_ERROR that is not retriable and names every bootstrap address, so a wrong or dead
   * bootstrap list ends every retry loop above (none keeps trying) and reads as what it is. The code stays
   * CONNECTION_ERROR so callers that explain connection failures by their cause chain keep working.
   */
  #givingUp(error: unknown): unknown {
    if (this.#everConnected || !(error instanceof ClientError)) return error;
    if (error.code !== 'CONNECTION_ERROR' && error.code !== 'CONNECTION_CLOSED') return error;
    const addresses = this.#bootstrap.map((b) =>
      b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`,
    );
    const elapsed = this.#firstConnectAt === 0 ? 0 : Date.now() - this.#firstConnectAt;
    return new ClientError(
      'CONNECTION_ERROR',
      `could not connect to any bootstrap broker (${addresses.join(', ')}): ${this.#failedConnects} ` +
        `connection attempts failed over ${elapsed} ms; last: ${error.message}. Check the brokers option ` +
        `(host:port, comma-separated) and that a broker listens there.`,
      { cause: error, retriable: false },
    );
  }

  /** Whether a connection to any broker ever succeeded. */
  get everConnected(): boolean {
    return this.#everConnected;
  }

  /** Keeps `topics` in every metadata refresh from now on. */
  addTopics(topics: Iterable<string>): void {
    for (const topic of topics) this.#wanted.add(topic);
  }

  /** Metadata for the wanted topics (or, with `all`, every topic). Coalesces concurrent calls. */
  refreshMetadata(options: { all?: boolean } = {}): Promise<void> {
    if (options.all) return this.#fetchMetadata(null);
    this.#refreshing ??= this.#fetchMetadata([...this.#wanted]).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #fetchMetadata(topics: string[] | null): Promise<void> {
    const { connection } = await this.anyConnection();
    const version = connection.versionFor(Metadata);
    if (version === undefined)
      throw new ClientError(
        'UNSUPPORTED_API',
        `${connection.host}:${connection.port} has no Metadata version this client knows`,
      );
    const response = await connection.request(
      Metadata,
      {
        // v0 has no null ("all topics"): an empty list means all there.
        topics:
          topics === null
            ? version === 0
              ? []
              : null
            : topics.map((name) => ({ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name })),
        // Before v4 the broker's auto.create.topics.enable alone decides; the field must keep its default.
        allowAutoTopicCreation: version >= 4 ? this.#allowAutoTopicCreation : true,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      },
      { version },
    );
    this.#apply(response, topics === null);
  }

  #apply(response: MetadataResponse, all: boolean): void {
    this.#brokers.clear();
    for (const b of response.brokers) {
      this.#brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
      // A broker that moved gets a fresh connection next time.
      const state = this.#nodes.get(b.nodeId);
      const c = state?.connection;
      if (c !== undefined && (c.host !== b.host || c.port !== b.port)) {
        c.close();
        state!.connection = undefined;
      }
    }
    this.#controllerId = response.controllerId;
    this.#clusterId = response.clusterId;
    if (all) this.#topics.clear();
    for (const t of response.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== 0) {
        this.#topics.delete(t.name);
        continue;
      }
      this.#topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    this.#metadataAt = Date.now();
    this.#lastResponse = response;
  }

  #lastResponse: MetadataResponse | undefined;

  /** The topic errors of the last metadata response (e.g. UNKNOWN_TOPIC_OR_PARTITION), by topic. */
  topicError(name: string): number {
    return this.#lastResponse?.topics.find((t) => t.name === name)?.errorCode ?? 0;
  }

  /**
   * Topic metadata, fetching it when missing or older than metadata.max.age.ms. Rejects with a KafkaError
   * for the topic's error (retriable ones are retried within the client's retry budget).
   */
  async topicMetadata(name: string, deadline = Infinity): Promise<TopicInfo> {
    this.addTopics([name]);
    const cached = this.#topics.get(name);
    if (cached !== undefined && Date.now() - this.#metadataAt < this.options.metadataMaxAgeMs) return cached;
    return this.withRetries(
      async () => {
        await this.refreshMetadata();
        const topic = this.#topics.get(name);
        if (topic !== undefined) return topic;
        const code = this.topicError(name);
        if (code !== 0) throw new KafkaError(code, { apiKey: Metadata.apiKey, message: `topic ${name}` });
        throw new ClientError('METADATA_UNAVAILABLE', `topic ${name} is not in the metadata`);
      },
      this.options.retries,
      deadline,
    );
  }

  /** Starts a background refresh when cached metadata is older than metadata.max.age.ms. */
  refreshIfStale(): void {
    if (
      this.#closed ||
      this.#metadataAt === 0 ||
      Date.now() - this.#metadataAt < this.options.metadataMaxAgeMs
    )
      return;
    this.#metadataAt = Date.now(); // one refresh per period, even if this one fails
    this.refreshMetadata().catch(() => undefined);
  }

  /** Leader of a partition from cached metadata, or undefined. */
  leaderFor(topic: string, partition: number): number | undefined {
    const p = this.#topics.get(topic)?.partitions[partition];
    if (p === undefined || p.leader < 0 || (p.errorCode !== 0 && !errorInfo(p.errorCode).retriable))
      return undefined;
    return p.leader < 0 ? undefined : p.leader;
  }

  /** The controller's node id (from Metadata), refreshing when unknown. */
  async controller(): Promise<number> {
    if (this.#controllerId < 0 || !this.#brokers.has(this.#controllerId)) await this.refreshMetadata();
    if (this.#controllerId < 0 || !this.#brokers.has(this.#controllerId)) {
      const first = this.brokers()[0];
      if (first === undefined) throw new ClientError('METADATA_UNAVAILABLE', 'no controller in the metadata');
      return first.nodeId;
    }
    return this.#controllerId;
  }

  /** Closes every connection; waiting requests reject. */
  close(): void {
    this.#closed = true;
    for (const state of this.#nodes.values()) state.connection?.close();
    this.#nodes.clear();
  }
}
