// One consumer's membership in a classic (JoinGroup/SyncGroup) consumer group: finding the coordinator,
// joining (the leader runs the assignor), heartbeating in the background, committing and fetching offsets,
// and leaving. The Consumer decides when to (re)join; this class only tells it that a rejoin is needed
// (`needsJoin`), because revoking partitions must happen between the application's polls.
//
// A member can also lose its place without a rebalance it took part in: the coordinator forgot it (its session
// expired, an admin removed it, another instance with its group.instance.id fenced it), or the application held
// records longer than max.poll.interval.ms (then this member leaves, as Kafka's clients do). `lost` tells the
// Consumer to drop its partitions without committing; commits are refused until the next join.
import {
  FindCoordinator,
  Heartbeat,
  JoinGroup,
  LeaveGroup,
  OffsetCommit,
  OffsetFetch,
  SyncGroup,
  type ApiDescriptor,
} from '../../protocol/messages/index.js';
import { ConsumerProtocolAssignment } from '../../protocol/messages/consumer-protocol-assignment.js';
import { ConsumerProtocolSubscription } from '../../protocol/messages/consumer-protocol-subscription.js';
import { decodeVersioned, encodeVersioned } from '../../protocol/internal/index.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { sleep, type Cluster } from '../cluster.js';
import { ClientError, KafkaError, isRetriable } from '../errors.js';
import type { Assignor, GroupAssignment, MemberSubscription } from './assignors.js';

export interface GroupMembershipOptions {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  groupInstanceId: string | null;
  assignors: Assignor[];
  /** True when the application has held records longer than max.poll.interval.ms; checked on each beat. */
  pollTimedOut?: () => boolean;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

// Version 0 of the consumer protocol structs is what every client reads (kafka-python knows no other);
// cooperative assignors need version 1 for the owned partitions.
const SUBSCRIPTION_VERSION = 0;
const COOPERATIVE_SUBSCRIPTION_VERSION = 1;
const ASSIGNMENT_VERSION = 0;

/** Errors after which the coordinator must be looked up again. */
const COORDINATOR_MOVED: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);

/** Answers that mean the coordinator no longer counts this member in its generation. */
const FORGOTTEN: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.FENCED_INSTANCE_ID,
]);

const REJOIN: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.REBALANCE_IN_PROGRESS,
]);

export class GroupMembership {
  readonly groupId: string;
  memberId = '';
  generationId = -1;
  /** The assignor the coordinator chose in the last join. */
  protocol: string | null = null;
  readonly #cluster: Cluster;
  readonly #options: GroupMembershipOptions;
  #coordinator: number | undefined;
  #needsJoin = true;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Bumped by every join, so a heartbeat answer that arrives after a join began is ignored. */
  #joinEpoch = 0;
  #closed = false;
  /** The error that made this member lose its generation (0: it has not). */
  #lostCode = 0;

  constructor(cluster: Cluster, options: GroupMembershipOptions) {
    this.#cluster = cluster;
    this.#options = options;
    this.groupId = options.groupId;
  }

  /** True before the first join and after the coordinator asked for a rebalance or forgot this member. */
  get needsJoin(): boolean {
    return this.#needsJoin;
  }

  /**
   * True from the moment this member learned it is no longer in its generation (the coordinator answered
   * UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION or FENCED_INSTANCE_ID, or it left after a poll timeout) until it
   * joined again: the partitions it had are lost, not revoked.
   */
  get lost(): boolean {
    return this.#lostCode !== 0;
  }

  /** Forgets the generation (and, unless only the generation was stale, the member id); a join comes next. */
  #lose(code: number): void {
    if (code !== ErrorCode.ILLEGAL_GENERATION) this.memberId = '';
    this.generationId = -1;
    this.#lostCode = code;
    this.#needsJoin = true;
    this.#stopHeartbeat();
  }

  /** Makes the next poll rejoin (a new subscription, say). */
  requestRejoin(): void {
    this.#needsJoin = true;
    this.#stopHeartbeat();
  }

  async #findCoordinator(): Promise<number> {
    if (this.#coordinator !== undefined) return this.#coordinator;
    const { nodeId: any } = await this.#cluster.anyConnection();
    const r = await this.#call(any, FindCoordinator, (version) => ({
      key: version < 4 ? this.groupId : '',
      keyType: 0,
      coordinatorKeys: version >= 4 ? [this.groupId] : [],
    }));
    const entry = r.coordinators[0] ?? {
      nodeId: r.nodeId,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
    };
    if (entry.errorCode !== 0)
      throw new KafkaError(entry.errorCode, {
        apiKey: FindCoordinator.apiKey,
        message: entry.errorMessage ?? `group ${this.groupId}`,
      });
    if (!this.#cluster.brokers().some((b) => b.nodeId === entry.nodeId))
      await this.#cluster.refreshMetadata();
    this.#coordinator = entry.nodeId;
    return entry.nodeId;
  }

  async #call<Req, Resp, ReqIn>(
    nodeId: number,
    api: ApiDescriptor<Req, Resp, ReqIn, unknown>,
    build: (version: number) => ReqIn,
    timeoutMs?: number,
  ): Promise<Resp> {
    const connection = await this.#cluster.connection(nodeId);
    const version = connection.versionFor(api as ApiDescriptor<unknown, unknown, unknown, unknown>);
    if (version === undefined)
      throw new ClientError(
        'UNSUPPORTED_API',
        `broker ${connection.host}:${connection.port} does not support ${api.name}`,
      );
    return connection.request(
      api,
      build(version),
      timeoutMs === undefined ? { version } : { version, timeoutMs },
    );
  }

  /** Runs `run` at the coordinator, retrying retriable errors and finding the coordinator again when it moved. */
  async #atCoordinator<T>(run: (node: number) => Promise<T>): Promise<T> {
    return this.#cluster.withRetries(async () => {
      try {
        return await run(await this.#findCoordinator());
      } catch (error) {
        if (!(error instanceof KafkaError) || COORDINATOR_MOVED.has(error.code))
          this.#coordinator = undefined;
        throw error;
      }
    });
  }

  /**
   * Joins (or rejoins) the group and returns this member's assignment. Loops through the protocol's expected
   * detours (MEMBER_ID_REQUIRED, a rebalance starting again during SyncGroup, a moved coordinator) until it
   * has an assignment or a non-retriable error.
   */
  async join(topics: string[], owned: TopicPartition[] = []): Promise<TopicPartition[]> {
    this.#stopHeartbeat();
    this.#joinEpoch++;
    const byTopic = new Map<string, number[]>();
    for (const tp of owned) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const metadataFor = (assignor: Assignor): Buffer =>
      encodeVersioned(
        ConsumerProtocolSubscription,
        assignor.cooperative ? COOPERATIVE_SUBSCRIPTION_VERSION : SUBSCRIPTION_VERSION,
        {
          topics: [...topics].sort(),
          userData: null,
          ownedPartitions: assignor.cooperative
            ? [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))
            : [],
          generationId: -1,
          rackId: null,
        },
      );
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new ClientError('CLIENT_CLOSED', 'the consumer is closed');
      let retry: 'now' | 'backoff' = 'backoff';
      try {
        const coordinator = await this.#findCoordinator();
        const join = await this.#call(
          coordinator,
          JoinGroup,
          () => ({
            groupId: this.groupId,
            sessionTimeoutMs: this.#options.sessionTimeoutMs,
            rebalanceTimeoutMs: this.#options.rebalanceTimeoutMs,
            memberId: this.memberId,
            groupInstanceId: this.#options.groupInstanceId,
            protocolType: 'consumer',
            protocols: this.#options.assignors.map((a) => ({ name: a.name, metadata: metadataFor(a) })),
            reason: null,
          }),
          // The coordinator holds JoinGroup until every member has rejoined, up to the rebalance timeout.
          this.#options.rebalanceTimeoutMs + this.#cluster.options.requestTimeoutMs,
        );
        if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
          this.memberId = join.memberId;
          retry = 'now';
          throw new KafkaError(join.errorCode, { apiKey: JoinGroup.apiKey });
        }
        if (join.errorCode !== 0) this.#joinError(join.errorCode, JoinGroup.apiKey);
        this.memberId = join.memberId;
        this.generationId = join.generationId;
        this.protocol = join.protocolName;
        const assignments =
          join.leader === join.memberId ? await this.#assign(join.protocolName, join.members) : [];
        const sync = await this.#call(
          coordinator,
          SyncGroup,
          () => ({
            groupId: this.groupId,
            generationId: this.generationId,
            memberId: this.memberId,
            groupInstanceId: this.#options.groupInstanceId,
            protocolType: 'consumer',
            protocolName: join.protocolName,
            assignments,
          }),
          this.#options.rebalanceTimeoutMs + this.#cluster.options.requestTimeoutMs,
        ).catch((error: unknown) => {
          // librdkafka's mock coordinator answers a failed SyncGroup with a null assignment, which the
          // codec refuses; whatever the error was, joining again is the way on.
          if (error instanceof ClientError && error.code === 'PROTOCOL_ERROR') {
            throw new KafkaError(ErrorCode.REBALANCE_IN_PROGRESS, { apiKey: SyncGroup.apiKey, cause: error });
          }
          throw error;
        });
        if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) {
          retry = 'now';
          throw new KafkaError(sync.errorCode, { apiKey: SyncGroup.apiKey });
        }
        if (sync.errorCode !== 0) this.#joinError(sync.errorCode, SyncGroup.apiKey);
        const assigned: TopicPartition[] = [];
        if (sync.assignment.length > 0) {
          const { value } = decodeVersioned(ConsumerProtocolAssignment, sync.assignment, {
            newerAsLatest: true,
          });
          for (const t of value.assignedPartitions)
            for (const partition of t.partitions) assigned.push({ topic: t.topic, partition });
        }
        this.#needsJoin = false;
        this.#lostCode = 0;
        this.#joinEpoch++;
        this.#startHeartbeat();
        return assigned;
      } catch (error) {
        if (this.#closed) throw new ClientError('CLIENT_CLOSED', 'the consumer is closed', { cause: error });
        // UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION and REBALANCE_IN_PROGRESS mean "join again", whatever
        // Kafka's retriable flag says.
        const rejoin = error instanceof KafkaError && REJOIN.has(error.code);
        if (!isRetriable(error) && !rejoin && retry !== 'now') throw error;
        if (!(error instanceof KafkaError)) this.#coordinator = undefined;
        if (retry === 'backoff') await sleep(this.#cluster.backoff(Math.min(attempt, 5)));
      }
    }
  }

  /** Handles a JoinGroup/SyncGroup error: state resets that make the next attempt succeed, or a throw. */
  #joinError(code: number, apiKey: number): never {
    if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.FENCED_INSTANCE_ID) {
      this.memberId = '';
      this.generationId = -1;
    } else if (code === ErrorCode.ILLEGAL_GENERATION) {
      this.generationId = -1;
    } else if (COORDINATOR_MOVED.has(code)) {
      this.#coordinator = undefined;
    }
    throw new KafkaError(code, { apiKey, message: `group ${this.groupId}` });
  }

  /** The leader's job: run the chosen assignor over every member's subscription. */
  async #assign(
    protocol: string | null,
    members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.#options.assignors.find((a) => a.name === protocol);
    if (assignor === undefined)
      throw new ClientError(
        'PROTOCOL_ERROR',
        `the coordinator chose assignor ${protocol}, which this consumer lacks`,
      );
    const subscriptions: MemberSubscription[] = members.map((m) => {
      const { value } = decodeVersioned(ConsumerProtocolSubscription, m.metadata, { newerAsLatest: true });
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: value.topics,
        ownedPartitions: value.ownedPartitions,
      };
    });
    const counts = new Map<string, number>();
    const topics = new Set(subscriptions.flatMap((s) => s.topics));
    // Fresh metadata, so partitions added since the last refresh are assigned too.
    this.#cluster.addTopics(topics);
    await this.#cluster.refreshMetadata().catch(() => undefined);
    for (const topic of topics) {
      try {
        const info = await this.#cluster.topicMetadata(topic);
        counts.set(topic, info.partitions.length);
      } catch (error) {
        // A topic that does not exist yet is assigned to nobody; the metadata refresh will bring it later.
        if (isRetriable(error) || error instanceof KafkaError) continue;
        throw error;
      }
    }
    const result: GroupAssignment = assignor.assign(subscriptions, counts);
    return [...result].map(([memberId, topics]) => ({
      memberId,
      assignment: encodeVersioned(ConsumerProtocolAssignment, ASSIGNMENT_VERSION, {
        assignedPartitions: [...topics].map(([topic, partitions]) => ({
          topic,
          partitions: [...partitions].sort((a, b) => a - b),
        })),
        userData: null,
      }),
    }));
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    const beat = async (): Promise<void> => {
      this.#heartbeat = undefined;
      if (this.#closed || this.#needsJoin) return;
      if (this.#options.pollTimedOut?.() === true) {
        // Kafka's clients leave the group here (a static member only stops heartbeating): the partitions go to
        // the other members now rather than after the session timeout.
        const { memberId } = this;
        this.#lose(ErrorCode.UNKNOWN_MEMBER_ID);
        await this.#sendLeave(memberId, 'max.poll.interval.ms exceeded');
        return;
      }
      const epoch = this.#joinEpoch;
      try {
        const coordinator = await this.#findCoordinator();
        const r = await this.#call(coordinator, Heartbeat, () => ({
          groupId: this.groupId,
          generationId: this.generationId,
          memberId: this.memberId,
          groupInstanceId: this.#options.groupInstanceId,
        }));
        // Stale: a join started (or finished) while this beat was out; its answer is about the old generation.
        if (epoch !== this.#joinEpoch) return;
        if (r.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) {
          this.#needsJoin = true;
        } else if (FORGOTTEN.has(r.errorCode)) {
          this.#lose(r.errorCode);
        } else if (COORDINATOR_MOVED.has(r.errorCode)) {
          this.#coordinator = undefined;
        }
      } catch {
        if (epoch !== this.#joinEpoch) return;
        // A lost connection: find the coordinator again on the next beat; the session timeout decides the rest.
        this.#coordinator = undefined;
      }
      if (!this.#closed && !this.#needsJoin && this.#heartbeat === undefined)
        this.#heartbeat = setTimeout(() => void beat(), this.#options.heartbeatIntervalMs).unref();
    };
    this.#heartbeat = setTimeout(() => void beat(), this.#options.heartbeatIntervalMs).unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** Committed offsets of `partitions` (absent: none committed). */
  async committed(partitions: TopicPartition[]): Promise<Map<string, number>> {
    const byTopic = new Map<string, number[]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    const out = new Map<string, number>();
    if (topics.length === 0) return out;
    const response = await this.#atCoordinator(async (node) => {
      const r = await this.#call(node, OffsetFetch, (version) =>
        version >= 8
          ? {
              groupId: '',
              topics: [],
              groups: [{ groupId: this.groupId, memberId: null, memberEpoch: -1, topics }],
              requireStable: version >= 7,
            }
          : { groupId: this.groupId, topics, groups: [], requireStable: version >= 7 },
      );
      const group = r.groups[0];
      const code = group ? group.errorCode : r.errorCode;
      if (code !== 0)
        throw new KafkaError(code, { apiKey: OffsetFetch.apiKey, message: `group ${this.groupId}` });
      for (const t of group ? group.topics : r.topics)
        for (const p of t.partitions)
          if (p.errorCode !== 0)
            throw new KafkaError(p.errorCode, {
              apiKey: OffsetFetch.apiKey,
              message: `${t.name}-${p.partitionIndex}`,
            });
      return group ? group.topics : r.topics;
    });
    for (const t of response)
      for (const p of t.partitions)
        if (p.committedOffset >= 0n)
          out.set(partitionKey(t.name, p.partitionIndex), Number(p.committedOffset));
    return out;
  }

  /**
   * Commits offsets (the next offset to read) with this member's generation. Rejects with the coordinator's
   * KafkaError: REBALANCE_IN_PROGRESS (the member rejoins on its next poll; the commit is not retried, as in
   * Kafka's clients) or UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION / FENCED_INSTANCE_ID (the member lost its
   * partitions). After a loss, commits are refused here, without asking the coordinator, until the next join.
   */
  async commit(offsets: { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (offsets.length === 0) return;
    if (this.#lostCode !== 0)
      throw new KafkaError(this.#lostCode, {
        apiKey: OffsetCommit.apiKey,
        message: `group ${this.groupId}: this member lost its partitions; the next poll rejoins`,
      });
    const byTopic = new Map<string, { partition: number; offset: number }[]>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    await this.#atCoordinator(async (node) => {
      const r = await this.#call(node, OffsetCommit, () => ({
        groupId: this.groupId,
        generationIdOrMemberEpoch: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.#options.groupInstanceId,
        retentionTimeMs: -1n,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((p) => ({
            partitionIndex: p.partition,
            committedOffset: BigInt(p.offset),
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: '',
          })),
        })),
      }));
      for (const t of r.topics)
        for (const p of t.partitions) {
          if (p.errorCode === 0) continue;
          if (p.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) this.#needsJoin = true;
          else if (FORGOTTEN.has(p.errorCode)) this.#lose(p.errorCode);
          throw new KafkaError(p.errorCode, {
            apiKey: OffsetCommit.apiKey,
            message: `${t.name}-${p.partitionIndex}`,
          });
        }
    });
  }

  /** Leaves the group (a static member stays, as in Kafka: its instance id keeps its place until the session ends). */
  async leave(): Promise<void> {
    this.#closed = true;
    this.#stopHeartbeat();
    await this.#sendLeave(this.memberId, 'consumer closed');
    this.memberId = '';
    this.generationId = -1;
  }

  /** LeaveGroup for a dynamic member; a static one keeps its place until its session ends. */
  async #sendLeave(memberId: string, reason: string): Promise<void> {
    if (memberId === '' || this.#options.groupInstanceId !== null) return;
    const coordinator = this.#coordinator;
    if (coordinator === undefined) return;
    try {
      await this.#call(coordinator, LeaveGroup, (version) => ({
        groupId: this.groupId,
        memberId: version <= 2 ? memberId : '',
        members: version >= 3 ? [{ memberId, groupInstanceId: null, reason }] : [],
      }));
    } catch {
      // The session timeout removes a member whose LeaveGroup got lost.
    }
  }

  /** Stops heartbeating without leaving (the consumer is closing after a failure). */
  stop(): void {
    this.#closed = true;
    this.#stopHeartbeat();
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
