// A Fjord broker: `fjord start` runs one, and `Broker.start()` embeds one in a Node.js process.
//
// Start-up: resolve the config -> meta.properties (cluster id) -> topic registry -> partition workers (each
// loads and, after an unclean stop, recovers its partitions) -> listener. Shutdown reverses it: stop reading
// requests, let in-flight ones finish, close the workers (flush, checkpoints), then mark the log dir clean.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { Admin, Consumer, Producer } from '../client/index.js';
import type {
  AdminOptions,
  ConsumerGroupOptions,
  ConsumerOptions,
  ProducerOptions,
} from '../client/index.js';
import { loadOrCreateMetaProperties } from '../cluster/meta-properties.js';
import { TopicManager } from '../cluster/topic-manager.js';
import { TopicRegistry } from '../cluster/topic-registry.js';
import { resolveBrokerConfig, type BrokerConfig } from '../config/broker-config.js';
import { GroupCoordinator, type GroupCoordinatorConfig } from '../group/group-coordinator.js';
import { PartitionGroupLog } from '../group/group-log.js';
import { warnIfFallback } from '../native/index.js';
import { PartitionPool } from '../partition/partition-pool.js';
import { createLogger, type Logger } from '../util/logger.js';
import type { BrokerContext, BrokerEndpoint } from './broker-context.js';
import { Connection } from './connection.js';
import { Dispatcher } from './dispatch.js';
import { FetchPurgatory } from './fetch-purgatory.js';
import { createFileRegionSender } from './file-transfer.js';
import { brokerHandlers } from './handlers/index.js';
import { RequestBudget } from './request-budget.js';
import { SegmentFiles } from './segment-files.js';

export interface BrokerOptions {
  /** log.dirs (default ./data). */
  dataDir?: string;
  /** The PLAINTEXT listener's port; 0 picks a free one (see broker.port). */
  port?: number;
  host?: string;
  /** Kafka broker properties (server.properties keys). */
  config?: Record<string, string>;
  log?: Logger;
}

const CLEAN_SHUTDOWN = '.kafka_cleanshutdown';

export class Broker {
  readonly config: BrokerConfig;
  readonly clusterId: string;
  readonly logDir: string;
  readonly #context: BrokerContext;
  readonly #server: net.Server;
  readonly #connections = new Set<Connection>();
  readonly #log: Logger;
  #port = 0;
  #host = '';
  #stopping: Promise<void> | undefined;

  private constructor(
    config: BrokerConfig,
    logDir: string,
    clusterId: string,
    pool: PartitionPool,
    topics: TopicManager,
    groups: GroupCoordinator,
    log: Logger,
  ) {
    this.config = config;
    this.logDir = logDir;
    this.clusterId = clusterId;
    this.#log = log;
    const segmentFiles = new SegmentFiles();
    const dispatcherRef: { current?: Dispatcher<BrokerContext> } = {};
    this.#context = {
      config,
      clusterId,
      nodeId: config.nodeId,
      brokers: () => [this.#endpoint()],
      controllerId: () => config.nodeId,
      topics,
      partitions: pool,
      fetchWaiters: new FetchPurgatory(),
      groups,
      segmentFiles,
      apiVersions: () => dispatcherRef.current!.apiVersions(),
      log,
    };
    const dispatcher = new Dispatcher(brokerHandlers, this.#context, log);
    dispatcherRef.current = dispatcher;
    const fileSender = createFileRegionSender(config.fetchTransfer);
    let nextId = 0;
    const budget = new RequestBudget(config.queuedMaxRequests, config.queuedMaxRequestBytes);
    // pauseOnConnect: a Connection takes over the socket before it reads anything (connection.ts).
    this.#server = net.createServer({ pauseOnConnect: true }, (socket) => {
      const connection = new Connection(nextId++, socket, dispatcher.handleFrame, {
        maxRequestBytes: config.socketRequestMaxBytes,
        maxInFlightRequests: 64,
        maxBufferedResponseBytes: 16 << 20,
        fileSender,
        budget,
        sharedFrames: pool.arena,
        log,
      });
      this.#connections.add(connection);
      connection.onClose(() => this.#connections.delete(connection));
    });
  }

  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const log = options.log ?? createLogger();
    const props: Record<string, string> = { ...options.config };
    if (options.dataDir !== undefined) props['log.dirs'] = options.dataDir;
    if (options.port !== undefined || options.host !== undefined) {
      props.listeners = `PLAINTEXT://${options.host ?? '127.0.0.1'}:${options.port ?? 9092}`;
    }
    const config = resolveBrokerConfig(props, log);
    if (config.logDirs.length > 1) log.warn(`only the first of log.dirs is used: ${config.logDirs[0]}`);
    if (config.zookeeperConnect)
      log.warn('zookeeper.connect is set, but clustering is not built yet: running alone');
    warnIfFallback((message) => log.warn(message));
    const logDir = resolve(config.logDirs[0]!);
    mkdirSync(logDir, { recursive: true });
    const meta = loadOrCreateMetaProperties(logDir, config.nodeId);
    const registry = new TopicRegistry(logDir);
    prepareCleanShutdownMarkers(logDir, config.numIoThreads);
    const pool = await PartitionPool.start({
      workers: config.numIoThreads,
      logDir,
      brokerProps: Object.fromEntries(config.raw),
      partitions: registry.list().flatMap((topic) =>
        Array.from({ length: topic.partitions }, (_, partition) => ({
          id: 0,
          topic: topic.name,
          partition,
          configs: topic.configs,
        })),
      ),
      log,
    });
    const topics = new TopicManager(registry, pool, config);
    const groups = new GroupCoordinator(groupCoordinatorConfig(config), new PartitionGroupLog(topics, pool), {
      logger: log,
    });
    const broker = new Broker(config, logDir, meta.clusterId, pool, topics, groups, log);
    await broker.#listen();
    // Listening first: clients that connect while the groups load get COORDINATOR_LOAD_IN_PROGRESS.
    await groups.start();
    return broker;
  }

  get port(): number {
    return this.#port;
  }

  get host(): string {
    return this.#host;
  }

  /** host:port for clients. */
  get bootstrap(): string {
    return `${this.#host}:${this.#port}`;
  }

  #endpoint(): BrokerEndpoint {
    const advertised = this.config.advertisedListeners[0]!;
    return {
      nodeId: this.config.nodeId,
      host: advertised.host || this.#host,
      port: advertised.port === 0 || advertised === this.config.listeners[0] ? this.#port : advertised.port,
      rack: null,
    };
  }

  async #listen(): Promise<void> {
    const listener = this.config.listeners[0]!;
    await new Promise<void>((resolveListen, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(listener.port, listener.host || undefined, () => {
        this.#server.off('error', reject);
        resolveListen();
      });
    });
    const address = this.#server.address() as net.AddressInfo;
    this.#port = address.port;
    this.#host = listener.host || '127.0.0.1';
    this.#log.info(
      `fjord broker ${this.config.nodeId} listening on ${listener.name}://${this.#host}:${this.#port}, data in ${this.logDir}`,
    );
  }

  /** A producer connected to this broker (the TypeScript client over loopback). */
  producer(options: Partial<ProducerOptions> = {}): Producer {
    return new Producer({ ...options, brokers: [this.bootstrap] });
  }

  /** A consumer connected to this broker; pass `groupId` to join a group, or assign partitions by hand. */
  consumer(options: Partial<ConsumerOptions> & ConsumerGroupOptions = {}): Consumer {
    return new Consumer({ ...options, brokers: [this.bootstrap] });
  }

  /** An admin client connected to this broker. */
  admin(options: Partial<AdminOptions> = {}): Admin {
    return new Admin({ ...options, brokers: [this.bootstrap] });
  }

  /** Clean shutdown: in-flight requests finish, logs flush, checkpoints are written. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const closed = new Promise<void>((done) => this.#server.close(() => done()));
      for (const connection of this.#connections) connection.stopReading();
      this.#context.fetchWaiters.completeAll();
      // Answers JoinGroup/SyncGroup requests parked in the coordinator, so connections can go idle.
      const groupsStopped = this.#context.groups.stop();
      // In-flight requests get up to 5 s to finish; the timer must not outlive them (it would hold the process).
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.#connections].map((c) => c.whenIdle())),
        new Promise((done) => (graceTimer = setTimeout(done, 5000))),
      ]);
      clearTimeout(graceTimer);
      for (const connection of this.#connections) connection.close();
      await closed;
      await groupsStopped;
      await this.#context.partitions.close();
      this.#context.segmentFiles.closeAll();
      completeCleanShutdownMarkers(this.logDir, this.config.numIoThreads);
      this.#log.info(`fjord broker ${this.config.nodeId} stopped`);
    })();
    return this.#stopping;
  }
}

function groupCoordinatorConfig(config: BrokerConfig): GroupCoordinatorConfig {
  return {
    offsetsTopicNumPartitions: config.offsetsTopicNumPartitions,
    offsetsRetentionMs: config.offsetsRetentionMinutes * 60_000,
    offsetsRetentionCheckIntervalMs: config.offsetsRetentionCheckIntervalMs,
    offsetMetadataMaxBytes: config.offsetMetadataMaxBytes,
    groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
    groupMinSessionTimeoutMs: config.groupMinSessionTimeoutMs,
    groupMaxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
    groupMaxSize: config.groupMaxSize,
  };
}

// Each worker's log manager keeps its own clean-shutdown marker. The log dir's marker is written once every
// worker has written its own, and at the next start handed to each worker, whatever their number is then.
function workerMarker(logDir: string, index: number): string {
  return join(logDir, `${CLEAN_SHUTDOWN}.w${index}`);
}

function prepareCleanShutdownMarkers(logDir: string, workers: number): void {
  for (const name of readdirSync(logDir))
    if (name.startsWith(`${CLEAN_SHUTDOWN}.w`)) rmSync(join(logDir, name));
  const clean = join(logDir, CLEAN_SHUTDOWN);
  if (!existsSync(clean)) return;
  for (let i = 0; i < workers; i++) writeFileSync(workerMarker(logDir, i), '');
  rmSync(clean);
}

function completeCleanShutdownMarkers(logDir: string, workers: number): void {
  const markers = Array.from({ length: workers }, (_, i) => workerMarker(logDir, i));
  if (!markers.every((marker) => existsSync(marker))) return;
  writeFileSync(join(logDir, CLEAN_SHUTDOWN), '');
  for (const marker of markers) rmSync(marker);
}
