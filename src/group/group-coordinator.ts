// The group coordinator (classic protocol) and the committed-offset store, for every group on this broker.
//
// Requests arrive from the handlers as plain parameters and leave as Kafka error codes and results: the state
// machine speaks Kafka's language, because its error codes are the part clients are most sensitive to. The
// rules follow Kafka's GroupCoordinator: the order of its checks, which error each state answers with, when a
// rebalance starts and when it completes. Differences from Kafka:
// - all __consumer_offsets partitions are local (one broker), so NOT_COORDINATOR only comes after stop();
// - a member removed while its JoinGroup or SyncGroup waits gets UNKNOWN_MEMBER_ID at once (Kafka leaves the
//   request to time out on the client);
// - "new member" join timeouts (KIP-394's 5 minutes) are not modelled: a member waiting in JoinGroup is kept
//   alive until the rebalance timeout removes it.
//
// Persistence: offset commits and group metadata are written to __consumer_offsets (group-log.ts) before the
// request is answered; state is rebuilt from there by start(). Main thread only.
//
// __consumer_offsets is created on first use, as Kafka does: by the first FindCoordinator
// (ensureOffsetsTopic()) or at the latest by the first write, which waits for it. A broker that never sees a consumer group never
// creates its offsets.topic.num.partitions (50) partitions, which were most of a fresh broker's start-up time.
// Until then there are no groups and no offsets, and every read answers as for an empty topic.
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../protocol/error-codes.js';
import {
  ClassicGroup,
  EMPTY_BYTES,
  GroupMember,
  offsetKey,
  type CommittedOffset,
  type GroupProtocol,
  type GroupState,
  type JoinMember,
  type JoinResult,
  type SyncResult,
} from './classic-group.js';
import type { GroupLog, GroupLogAppendResult } from './group-log.js';
import {
  decodeCoordinatorRecord,
  groupMetadataRecord,
  offsetCommitRecord,
  type CoordinatorRecord,
  type StoredGroup,
  type StoredOffset,
} from './group-records.js';
import { partitionFor } from './partition-for.js';
import { systemScheduler, type Scheduler } from './scheduler.js';

export interface GroupCoordinatorConfig {
  offsetsTopicNumPartitions: number;
  /** offsets.retention.minutes, in ms. */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms. */
  offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes. */
  offsetMetadataMaxBytes: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
}

export interface CoordinatorLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
  /** JoinGroup v4+: an unknown member gets MEMBER_ID_REQUIRED and a member id to rejoin with. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a stable group gets the members but need not assign. */
  supportsSkipAssignment: boolean;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveResult {
  errorCode: number;
  members: (MemberIdentity & { errorCode: number })[];
}

export interface DescribedMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  metadata: Buffer;
  assignment: Buffer;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  /** '' with an error (Kafka's "no state"). */
  state: GroupState | '';
  protocolType: string;
  protocolName: string;
  members: DescribedMember[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  state: GroupState;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

export interface CommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** -1: the broker's retention applies. */
  retentionMs: number;
  offsets: OffsetToCommit[];
}

export interface FetchedOffset {
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface FetchOffsetsResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

export interface DeleteOffsetsResult {
  errorCode: number;
  partitions: { topic: string; partition: number; errorCode: number }[];
}

interface PendingWrite {
  records: CoordinatorRecord[];
  bytes: number;
  resolve: (result: GroupLogAppendResult) => void;
}

/** Coalesced appends stay well under a worker ring's payload limit and message.max.bytes. */
const MAX_COALESCED_BYTES = 256 * 1024;

const joinError = (memberId: string, errorCode: number): JoinResult => ({
  errorCode,
  generationId: -1,
  protocolType: null,
  protocolName: null,
  leaderId: '',
  memberId,
  skipAssignment: false,
  members: [],
});

const syncError = (errorCode: number): SyncResult => ({
  errorCode,
  protocolType: null,
  protocolName: null,
  assignment: EMPTY_BYTES,
});

// Kafka's mapping of a failed __consumer_offsets append, for commits and for group metadata.
function storeErrorCode(result: Exclude<GroupLogAppendResult, { ok: true }>, forCommit: boolean): number {
  if (result.reason === 'record-too-large')
    return forCommit ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
  return ErrorCode.COORDINATOR_NOT_AVAILABLE;
}

export class GroupCoordinator {
  readonly #config: GroupCoordinatorConfig;
  readonly #log: GroupLog;
  readonly #scheduler: Scheduler;
  readonly #logger: CoordinatorLogger;
  readonly #groups = new Map<string, ClassicGroup>();
  /** __consumer_offsets partitions still loading. */
  readonly #loading = new Set<number>();
  /** Records waiting for their partition's current append to finish; they then go out as one batch. */
  readonly #pendingWrites = new Map<number, PendingWrite[]>();
  /** The write loop of each partition with an append in flight. */
  readonly #writing = new Map<number, Promise<void>>();
  #partitions = 0;
  /** The creation of __consumer_offsets, once begun (cleared when it fails, so a later write retries). */
  #creating: Promise<void> | undefined;
  #status: 'starting' | 'active' | 'stopped' = 'starting';
  #retentionTimer: { cancel(): void } | undefined;

  constructor(
    config: GroupCoordinatorConfig,
    log: GroupLog,
    options: { scheduler?: Scheduler; logger?: CoordinatorLogger } = {},
  ) {
    this.#config = config;
    this.#log = log;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#logger = options.logger ?? { info: () => {}, warn: () => {} };
  }

  /**
   * Loads every partition of __consumer_offsets when it exists (requests meanwhile get LOAD_IN_PROGRESS); when
   * it does not, the coordinator is active at once and the topic is created on first use.
   */
  async start(): Promise<void> {
    this.#partitions = (await this.#log.existing()) ?? 0;
    for (let p = 0; p < this.#partitions; p++) this.#loading.add(p);
    this.#status = 'active';
    if (this.#partitions === 0) {
      this.#scheduleRetentionCheck();
      this.#logger.info('group coordinator loaded 0 groups: __consumer_offsets is created on first use');
      return;
    }
    const started = this.#scheduler.now();
    for (let p = 0; p < this.#partitions; p++) {
      await this.#loadPartition(p);
      this.#loading.delete(p);
    }
    this.#scheduleRetentionCheck();
    this.#logger.info(
      `group coordinator loaded ${this.#groups.size} groups from ${this.#partitions} partitions in ${this.#scheduler.now() - started} ms`,
    );
  }

  /** Cancels every timer, answers parked JoinGroup/SyncGroup requests; later requests get NOT_COORDINATOR. Waits for pending writes. */
  async stop(): Promise<void> {
    this.#status = 'stopped';
    this.#retentionTimer?.cancel();
    for (const group of this.#groups.values()) {
      group.joinTimer?.cancel();
      group.syncTimer?.cancel();
      for (const timer of group.pendingMembers.values()) timer.cancel();
      for (const member of group.members.values()) {
        member.heartbeatTimer?.cancel();
        // Requests parked in JoinGroup/SyncGroup are answered, as Kafka does when it gives a partition up.
        const joinWaiter = member.joinWaiter;
        member.joinWaiter = undefined;
        joinWaiter?.(joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        const syncWaiter = member.syncWaiter;
        member.syncWaiter = undefined;
        syncWaiter?.(syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
    await Promise.allSettled([...this.#writing.values(), this.#creating]);
  }

  /**
   * Starts creating __consumer_offsets if it does not exist yet (FindCoordinator calls this, as Kafka creates
   * the topic on the first lookup); writes wait for it. Resolves to whether it exists; never rejects.
   */
  ensureOffsetsTopic(): Promise<boolean> {
    if (this.#partitions > 0) return Promise.resolve(true);
    if (this.#status !== 'active') return Promise.resolve(false);
    this.#creating ??= this.#log.open(this.#config.offsetsTopicNumPartitions).then(
      (partitions) => {
        this.#partitions = partitions;
        this.#logger.info(`created __consumer_offsets with ${partitions} partitions`);
      },
      (error: Error) => {
        this.#creating = undefined;
        this.#logger.warn(`cannot create __consumer_offsets: ${error.message}`);
      },
    );
    return this.#creating.then(() => this.#partitions > 0);
  }

  /** Whether this broker coordinates groups at all now (FindCoordinator's answer; loading still counts). */
  get available(): boolean {
    return this.#status === 'active';
  }

  /** The __consumer_offsets partition of a group. */
  partitionFor(groupId: string): number {
    return partitionFor(groupId, this.#partitions || this.#config.offsetsTopicNumPartitions);
  }

  // --- checks shared by every API ---------------------------------------------------------------------------

  /** Kafka's validateGroupStatus: empty ids are only valid for the offset and admin APIs. */
  #status_(groupId: string, allowEmptyId: boolean): number {
    if (!allowEmptyId && groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (this.#status === 'starting') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.#status === 'stopped') return ErrorCode.NOT_COORDINATOR;
    if (this.#loading.has(this.partitionFor(groupId))) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  // --- JoinGroup --------------------------------------------------------------------------------------------

  join(request: JoinRequest): Promise<JoinResult> {
    const status = this.#status_(request.groupId, false);
    if (status !== ErrorCode.NONE) return Promise.resolve(joinError(request.memberId, status));
    if (
      request.sessionTimeoutMs < this.#config.groupMinSessionTimeoutMs ||
      request.sessionTimeoutMs > this.#config.groupMaxSessionTimeoutMs
    ) {
      return Promise.resolve(joinError(request.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const unknownMember = request.memberId === '';
    let group = this.#groups.get(request.groupId);
    if (!group) {
      if (!unknownMember) return Promise.resolve(joinError(request.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ClassicGroup(request.groupId);
      group.currentStateTimestamp = this.#scheduler.now();
      this.#groups.set(request.groupId, group);
    }
    const target = group;
    if (
      (unknownMember || !target.members.has(request.memberId)) &&
      !target.pendingMembers.has(request.memberId) &&
      !(request.groupInstanceId !== null && target.staticMembers.has(request.groupInstanceId)) &&
      target.members.size + target.pendingMembers.size >= this.#config.groupMaxSize
    ) {
      return Promise.resolve(joinError(request.memberId, ErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    return new Promise<JoinResult>((resolve) => {
      if (unknownMember) this.#unknownMemberJoin(target, request, resolve);
      else this.#knownMemberJoin(target, request, resolve);
    }).finally(() => this.#dropIfUnused(target));
  }

  #unknownMemberJoin(group: ClassicGroup, request: JoinRequest, resolve: (r: JoinResult) => void): void {
    if (group.state === 'Dead') return resolve(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(request.protocolType, request.protocols)) {
      return resolve(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = `${request.clientId}-${randomUUID()}`;
    if (request.groupInstanceId !== null) {
      return this.#staticMemberJoin(group, request, newMemberId, resolve);
    }
    if (request.requireKnownMemberId) {
      // The member must come back with this id; until it does (or its session expires) the rebalance waits.
      const timer = this.#scheduler.schedule(request.sessionTimeoutMs, () => {
        if (!group.pendingMembers.delete(newMemberId)) return;
        this.#tryCompleteJoin(group);
        this.#dropIfUnused(group);
      });
      group.pendingMembers.set(newMemberId, timer);
      return resolve(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.#addMemberAndRebalance(group, request, newMemberId, resolve);
  }

  #knownMemberJoin(group: ClassicGroup, request: JoinRequest, resolve: (r: JoinResult) => void): void {
    const memberId = request.memberId;
    if (group.state === 'Dead') return resolve(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(request.protocolType, request.protocols)) {
      return resolve(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const pending = group.pendingMembers.get(memberId);
    if (pending) {
      pending.cancel();
      group.pendingMembers.delete(memberId);
      return this.#addMemberAndRebalance(group, request, memberId, resolve);
    }
    if (group.isStaticMemberFenced(memberId, request.groupInstanceId)) {
      return resolve(joinError(memberId, ErrorCode.FENCED_INSTANCE_ID));
    }
    const member = group.members.get(memberId);
    const instanceUnknown =
      request.groupInstanceId !== null && !group.staticMembers.has(request.groupInstanceId);
    if (!member || instanceUnknown) return resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    switch (group.state) {
      case 'PreparingRebalance':
        return this.#updateMemberAndRebalance(group, member, request, resolve);
      case 'CompletingRebalance':
        if (member.matches(request.protocols)) {
          // A lost JoinGroup response: send it again.
          return resolve(this.#joinResponse(group, member, false));
        }
        return this.#updateMemberAndRebalance(group, member, request, resolve);
      case 'Stable':
        if (memberId === group.leaderId || !member.matches(request.protocols)) {
          // The leader rejoining means it wants a new assignment (its metadata may have changed).
          return this.#updateMemberAndRebalance(group, member, request, resolve);
        }
        this.#scheduleHeartbeat(group, member);
        return resolve(this.#joinResponse(group, member, false));
      default:
        return resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  #staticMemberJoin(
    group: ClassicGroup,
    request: JoinRequest,
    newMemberId: string,
    resolve: (r: JoinResult) => void,
  ): void {
    const instanceId = request.groupInstanceId!;
    const oldMemberId = group.staticMembers.get(instanceId);
    const previousLeader = group.leaderId;
    const member = oldMemberId === undefined ? undefined : group.members.get(oldMemberId);
    if (!member) return this.#addMemberAndRebalance(group, request, newMemberId, resolve);
    // The instance restarted: it takes over its old identity under a new member id, and the old id is fenced.
    member.joinWaiter?.(joinError(oldMemberId!, ErrorCode.FENCED_INSTANCE_ID));
    member.joinWaiter = undefined;
    member.syncWaiter?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    member.syncWaiter = undefined;
    group.members.delete(oldMemberId!);
    member.memberId = newMemberId;
    group.members.set(newMemberId, member);
    group.staticMembers.set(instanceId, newMemberId);
    if (group.leaderId === oldMemberId) group.leaderId = newMemberId;
    if (group.pendingSync.delete(oldMemberId!)) group.pendingSync.add(newMemberId);
    member.clientId = request.clientId;
    member.clientHost = request.clientHost;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    switch (group.state) {
      case 'Stable': {
        const previousProtocol = group.protocolName;
        const previousProtocols = member.protocols;
        member.protocols = request.protocols;
        if (group.selectProtocol() !== previousProtocol) {
          member.protocols = previousProtocols;
          return this.#updateMemberAndRebalance(group, member, request, resolve);
        }
        // Same protocol: no rebalance. Persist the new member id first, as Kafka does.
        this.#scheduleHeartbeat(group, member);
        const generation = group.generationId;
        void this.#storeGroup(group).then((result) => {
          if (!result.ok) {
            resolve(joinError(newMemberId, storeErrorCode(result, false)));
            return;
          }
          if (group.generationId !== generation || group.members.get(newMemberId) !== member) {
            resolve(joinError(newMemberId, ErrorCode.REBALANCE_IN_PROGRESS));
            return;
          }
          // Before v9 the response names the previous leader id: a restarted leader must not think it leads
          // (and compute an assignment nobody would receive). From v9 it is told, with skipAssignment.
          const isLeader = group.leaderId === newMemberId && request.supportsSkipAssignment;
          resolve({
            ...this.#joinResponse(group, member, false),
            leaderId: (request.supportsSkipAssignment ? group.leaderId : previousLeader) ?? '',
            members: isLeader ? this.#joinMembers(group) : [],
            skipAssignment: isLeader,
          });
        });
        return;
      }
      case 'CompletingRebalance':
      case 'PreparingRebalance':
        return this.#updateMemberAndRebalance(group, member, request, resolve);
      case 'Empty':
      case 'Dead':
        return resolve(joinError(newMemberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  #addMemberAndRebalance(
    group: ClassicGroup,
    request: JoinRequest,
    memberId: string,
    resolve: (r: JoinResult) => void,
  ): void {
    const member = new GroupMember({
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      sessionTimeoutMs: request.sessionTimeoutMs,
      protocols: request.protocols,
    });
    if (group.state === 'PreparingRebalance' && group.initialDelay) group.initialDelay.newMemberAdded = true;
    if (group.members.size === 0) group.protocolType = request.protocolType;
    group.members.set(memberId, member);
    if (group.leaderId === null) group.leaderId = memberId;
    if (request.groupInstanceId !== null) group.staticMembers.set(request.groupInstanceId, memberId);
    member.joinWaiter = resolve;
    this.#scheduleHeartbeat(group, member);
    this.#maybePrepareRebalance(group);
    this.#tryCompleteJoin(group);
  }

  #updateMemberAndRebalance(
    group: ClassicGroup,
    member: GroupMember,
    request: JoinRequest,
    resolve: (r: JoinResult) => void,
  ): void {
    member.protocols = request.protocols;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.joinWaiter = resolve;
    this.#scheduleHeartbeat(group, member);
    this.#maybePrepareRebalance(group);
    this.#tryCompleteJoin(group);
  }

  #maybePrepareRebalance(group: ClassicGroup): void {
    if (group.state === 'Empty' || group.state === 'Stable' || group.state === 'CompletingRebalance') {
      this.#prepareRebalance(group);
    }
  }

  #prepareRebalance(group: ClassicGroup): void {
    if (group.state === 'CompletingRebalance') {
      // The assignment being collected is void: tell everyone waiting in SyncGroup to rejoin.
      for (const member of group.members.values()) {
        member.assignment = EMPTY_BYTES;
        const waiter = member.syncWaiter;
        member.syncWaiter = undefined;
        waiter?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
    group.syncTimer?.cancel();
    group.syncTimer = undefined;
    group.pendingSync.clear();
    const initial = group.state === 'Empty';
    group.transition('PreparingRebalance', this.#scheduler.now());
    group.joinTimer?.cancel();
    if (initial) {
      const delay = this.#config.groupInitialRebalanceDelayMs;
      group.initialDelay = {
        remainingMs: Math.max(group.rebalanceTimeoutMs - delay, 0),
        newMemberAdded: false,
      };
      group.joinTimer = this.#scheduler.schedule(delay, () => this.#initialDelayExpired(group));
    } else {
      group.initialDelay = undefined;
      group.joinTimer = this.#scheduler.schedule(group.rebalanceTimeoutMs, () => this.#completeJoin(group));
      // Everyone may already be waiting (or nobody is left): then there is nothing to wait for.
      this.#tryCompleteJoin(group);
    }
  }

  #initialDelayExpired(group: ClassicGroup): void {
    const delay = group.initialDelay;
    if (delay && delay.newMemberAdded && delay.remainingMs > 0) {
      const next = Math.min(this.#config.groupInitialRebalanceDelayMs, delay.remainingMs);
      delay.remainingMs -= next;
      delay.newMemberAdded = false;
      group.joinTimer = this.#scheduler.schedule(next, () => this.#initialDelayExpired(group));
      return;
    }
    this.#completeJoin(group);
  }

  #tryCompleteJoin(group: ClassicGroup): void {
    if (group.state === 'PreparingRebalance' && !group.initialDelay && group.allMembersJoined()) {
      this.#completeJoin(group);
    }
  }

  #completeJoin(group: ClassicGroup): void {
    group.joinTimer?.cancel();
    group.joinTimer = undefined;
    group.initialDelay = undefined;
    if (group.state !== 'PreparingRebalance') return;
    for (const member of [...group.members.values()]) {
      if (!member.joinWaiter) this.#removeMember(group, member);
    }
    if (group.leaderId === null || !group.members.get(group.leaderId)?.joinWaiter) {
      group.leaderId = group.members.keys().next().value ?? null;
    }
    group.generationId++;
    const now = this.#scheduler.now();
    if (group.members.size === 0) {
      group.protocolName = null;
      group.transition('Empty', now);
      void this.#storeGroup(group).then((result) => {
        if (!result.ok) this.#logger.warn(`cannot store empty group ${group.groupId}: ${result.message}`);
      });
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transition('CompletingRebalance', now);
    for (const member of group.members.values()) group.pendingSync.add(member.memberId);
    const generation = group.generationId;
    group.syncTimer = this.#scheduler.schedule(group.rebalanceTimeoutMs, () =>
      this.#syncExpired(group, generation),
    );
    for (const member of group.members.values()) {
      const waiter = member.joinWaiter!;
      member.joinWaiter = undefined;
      this.#scheduleHeartbeat(group, member);
      waiter(this.#joinResponse(group, member, false));
    }
  }

  /** Members that never sent SyncGroup within the rebalance timeout are dropped, and the group rebalances. */
  #syncExpired(group: ClassicGroup, generation: number): void {
    group.syncTimer = undefined;
    if (group.generationId !== generation || group.pendingSync.size === 0) return;
    if (group.state !== 'CompletingRebalance' && group.state !== 'Stable') return;
    for (const memberId of [...group.pendingSync]) {
      const member = group.members.get(memberId);
      if (member) this.#removeMember(group, member);
    }
    group.pendingSync.clear();
    this.#prepareRebalance(group);
  }

  #joinMembers(group: ClassicGroup): JoinMember[] {
    return [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(group.protocolName),
    }));
  }

  #joinResponse(group: ClassicGroup, member: GroupMember, skipAssignment: boolean): JoinResult {
    const isLeader = group.leaderId === member.memberId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment,
      members: isLeader ? this.#joinMembers(group) : [],
    };
  }

  // --- membership upkeep -----------------------------------------------------------------------------------

  #scheduleHeartbeat(group: ClassicGroup, member: GroupMember): void {
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = this.#scheduler.schedule(member.sessionTimeoutMs, () => {
      if (group.members.get(member.memberId) !== member) return;
      // A member blocked in JoinGroup or SyncGroup cannot heartbeat; the rebalance timeout bounds it instead.
      if (member.joinWaiter || member.syncWaiter) return this.#scheduleHeartbeat(group, member);
      this.#logger.info(`member ${member.memberId} of group ${group.groupId} expired (session timeout)`);
      this.#removeMemberAndUpdateGroup(group, member);
    });
  }

  #removeMember(group: ClassicGroup, member: GroupMember): void {
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = undefined;
    group.members.delete(member.memberId);
    group.pendingSync.delete(member.memberId);
    if (
      member.groupInstanceId !== null &&
      group.staticMembers.get(member.groupInstanceId) === member.memberId
    ) {
      group.staticMembers.delete(member.groupInstanceId);
    }
    if (group.leaderId === member.memberId) group.leaderId = group.members.keys().next().value ?? null;
    const joinWaiter = member.joinWaiter;
    member.joinWaiter = undefined;
    joinWaiter?.(joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    const syncWaiter = member.syncWaiter;
    member.syncWaiter = undefined;
    syncWaiter?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }

  #removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember): void {
    this.#removeMember(group, member);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.#prepareRebalance(group);
        break;
      case 'PreparingRebalance':
        this.#tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  /** A group created by a failed join with nothing in it is forgotten again. */
  #dropIfUnused(group: ClassicGroup): void {
    if (
      group.state === 'Empty' &&
      group.members.size === 0 &&
      group.pendingMembers.size === 0 &&
      group.offsets.size === 0 &&
      group.generationId === 0 &&
      this.#groups.get(group.groupId) === group
    ) {
      this.#groups.delete(group.groupId);
    }
  }

  // --- SyncGroup --------------------------------------------------------------------------------------------

  sync(request: SyncRequest): Promise<SyncResult> {
    const status = this.#status_(request.groupId, false);
    // While loading, the rebalance in progress is lost: the member must rejoin. Older clients do not expect
    // COORDINATOR_LOAD_IN_PROGRESS from SyncGroup, so Kafka answers REBALANCE_IN_PROGRESS.
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
      return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    if (status !== ErrorCode.NONE) return Promise.resolve(syncError(status));
    const group = this.#groups.get(request.groupId);
    if (!group) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.state === 'Dead') return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (group.isStaticMemberFenced(request.memberId, request.groupInstanceId))
      return Promise.resolve(syncError(ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(request.memberId);
    if (!member) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (request.generationId !== group.generationId)
      return Promise.resolve(syncError(ErrorCode.ILLEGAL_GENERATION));
    if (
      (request.protocolType !== null && request.protocolType !== group.protocolType) ||
      (request.protocolName !== null && request.protocolName !== group.protocolName)
    ) {
      return Promise.resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    switch (group.state) {
      case 'Empty':
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        group.pendingSync.delete(member.memberId);
        this.#scheduleHeartbeat(group, member);
        return Promise.resolve(this.#syncResponse(group, member));
      case 'CompletingRebalance':
        return new Promise<SyncResult>((resolve) => {
          member.syncWaiter = resolve;
          group.pendingSync.delete(member.memberId);
          this.#scheduleHeartbeat(group, member);
          if (member.memberId === group.leaderId) this.#leaderSync(group, request.assignments);
        });
      default:
        return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  #leaderSync(group: ClassicGroup, assignments: SyncRequest['assignments']): void {
    const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]));
    const generation = group.generationId;
    const proposed = new Map<string, Buffer>();
    for (const memberId of group.members.keys())
      proposed.set(memberId, byMember.get(memberId) ?? EMPTY_BYTES);
    void this.#storeGroup(group, proposed).then((result) => {
      if (group.state !== 'CompletingRebalance' || group.generationId !== generation) return;
      if (!result.ok) {
        const errorCode = storeErrorCode(result, false);
        for (const member of group.members.values()) {
          const waiter = member.syncWaiter;
          member.syncWaiter = undefined;
          waiter?.(syncError(errorCode));
        }
        this.#prepareRebalance(group);
        return;
      }
      for (const member of group.members.values())
        member.assignment = proposed.get(member.memberId) ?? EMPTY_BYTES;
      group.transition('Stable', this.#scheduler.now());
      for (const member of group.members.values()) {
        const waiter = member.syncWaiter;
        member.syncWaiter = undefined;
        waiter?.(this.#syncResponse(group, member));
      }
    });
  }

  #syncResponse(group: ClassicGroup, member: GroupMember): SyncResult {
    return {
      errorCode: ErrorCode.NONE,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment: member.assignment,
    };
  }

  // --- Heartbeat, LeaveGroup --------------------------------------------------------------------------------

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    const status = this.#status_(groupId, false);
    // Kafka answers heartbeats blindly while it loads: the member will learn the truth once it has loaded.
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ErrorCode.NONE;
    if (status !== ErrorCode.NONE) return status;
    const group = this.#groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'CompletingRebalance':
      case 'Stable':
        // Consumers may heartbeat between their JoinGroup and SyncGroup responses: that is a live member.
        this.#scheduleHeartbeat(group, member);
        return ErrorCode.NONE;
      case 'PreparingRebalance':
        this.#scheduleHeartbeat(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  leave(groupId: string, leaving: MemberIdentity[]): LeaveResult {
    const status = this.#status_(groupId, false);
    if (status !== ErrorCode.NONE) return { errorCode: status, members: [] };
    const group = this.#groups.get(groupId);
    if (!group) {
      return {
        errorCode: ErrorCode.NONE,
        members: leaving.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    }
    if (group.state === 'Dead') return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((identity) => {
      let memberId = identity.memberId;
      if (memberId === '' && identity.groupInstanceId !== null) {
        memberId = group.staticMembers.get(identity.groupInstanceId) ?? '';
        if (memberId === '') return { ...identity, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
      } else if (group.isStaticMemberFenced(memberId, identity.groupInstanceId)) {
        return { ...identity, errorCode: ErrorCode.FENCED_INSTANCE_ID };
      }
      const pending = group.pendingMembers.get(memberId);
      if (pending) {
        pending.cancel();
        group.pendingMembers.delete(memberId);
        this.#tryCompleteJoin(group);
        return { ...identity, errorCode: ErrorCode.NONE };
      }
      const member = group.members.get(memberId);
      if (!member) return { ...identity, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
      this.#logger.info(`member ${memberId} left group ${groupId}`);
      this.#removeMemberAndUpdateGroup(group, member);
      return { ...identity, errorCode: ErrorCode.NONE };
    });
    return { errorCode: ErrorCode.NONE, members };
  }

  // --- DescribeGroups, ListGroups, DeleteGroups -------------------------------------------------------------

  describe(groupId: string): DescribedGroup {
    const status = this.#status_(groupId, true);
    const dead: DescribedGroup = {
      errorCode: status,
      groupId,
      state: status === ErrorCode.NONE ? 'Dead' : '',
      protocolType: '',
      protocolName: '',
      members: [],
    };
    if (status !== ErrorCode.NONE) return dead;
    const group = this.#groups.get(groupId);
    if (!group) return dead;
    const stable = group.state === 'Stable';
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolName: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(group.protocolName) : EMPTY_BYTES,
        assignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** Every group, or COORDINATOR_LOAD_IN_PROGRESS while any partition loads. */
  list(): { errorCode: number; groups: ListedGroup[] } {
    if (this.#status === 'starting') return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    if (this.#status === 'stopped') return { errorCode: ErrorCode.NOT_COORDINATOR, groups: [] };
    return {
      errorCode: this.#loading.size > 0 ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE,
      groups: [...this.#groups.values()].map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType ?? '',
        state: g.state,
      })),
    };
  }

  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        const status = this.#status_(groupId, true);
        if (status !== ErrorCode.NONE) return { groupId, errorCode: status };
        const group = this.#groups.get(groupId);
        if (!group || group.state === 'Dead') return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND };
        if (group.state !== 'Empty') return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP };
        const records = [...group.offsets.values()].map((o) =>
          offsetCommitRecord(groupId, o.topic, o.partition, null),
        );
        records.push(groupMetadataRecord(groupId, null));
        this.#markDead(group);
        const result = await this.#append(groupId, records);
        if (!result.ok) this.#logger.warn(`tombstones for group ${groupId} not written: ${result.message}`);
        return { groupId, errorCode: ErrorCode.NONE };
      }),
    );
  }

  #markDead(group: ClassicGroup): void {
    group.transition('Dead', this.#scheduler.now());
    group.joinTimer?.cancel();
    group.syncTimer?.cancel();
    if (this.#groups.get(group.groupId) === group) this.#groups.delete(group.groupId);
  }

  // --- OffsetCommit, OffsetFetch, OffsetDelete --------------------------------------------------------------

  /** Resolves to one error code per offset (in request order). */
  async commitOffsets(request: CommitRequest): Promise<number[]> {
    const all = (code: number) => request.offsets.map(() => code);
    const status = this.#status_(request.groupId, true);
    if (status !== ErrorCode.NONE) return all(status);
    let group = this.#groups.get(request.groupId);
    if (!group) {
      // Only a group that does not use the coordinator for membership may commit into a new group.
      if (request.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(request.groupId);
      group.currentStateTimestamp = this.#scheduler.now();
      this.#groups.set(request.groupId, group);
    } else {
      const code = this.#commitCheck(group, request);
      if (code !== ErrorCode.NONE) return all(code);
    }
    const now = this.#scheduler.now();
    const codes: number[] = [];
    const accepted: CommittedOffset[] = [];
    for (const o of request.offsets) {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata) > this.#config.offsetMetadataMaxBytes) {
        codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
        continue;
      }
      codes.push(ErrorCode.NONE);
      accepted.push({
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata,
        commitTimestamp: now,
        expireTimestamp: request.retentionMs >= 0 ? now + request.retentionMs : -1,
      });
    }
    if (accepted.length === 0) return codes;
    const target = group;
    const result = await this.#append(
      request.groupId,
      accepted.map((o) => offsetCommitRecord(request.groupId, o.topic, o.partition, o)),
    );
    if (!result.ok) {
      const code = storeErrorCode(result, true);
      return codes.map((c) => (c === ErrorCode.NONE ? code : c));
    }
    for (const o of accepted) target.offsets.set(offsetKey(o.topic, o.partition), o);
    if (target.state === 'Dead' && this.#groups.get(request.groupId) === undefined) {
      // Deleted while the write was in flight: the commit recreates the group, as a later write would in Kafka.
      target.transition('Empty', now);
      this.#groups.set(request.groupId, target);
    }
    return codes;
  }

  // A commit that names a member or generation is checked against them; an anonymous one is only accepted
  // by a group without members. Then a group between JoinGroup and SyncGroup answers REBALANCE_IN_PROGRESS
  // (the member holds the new generation but not yet its assignment).
  #commitCheck(group: ClassicGroup, request: CommitRequest): number {
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    let member: GroupMember | undefined;
    if (request.generationId >= 0 || request.memberId !== '' || request.groupInstanceId !== null) {
      if (group.isStaticMemberFenced(request.memberId, request.groupInstanceId))
        return ErrorCode.FENCED_INSTANCE_ID;
      member = group.members.get(request.memberId);
      if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (group.state !== 'Empty') {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    if (member) this.#scheduleHeartbeat(group, member);
    return ErrorCode.NONE;
  }

  /** `topics` null: every committed offset of the group. */
  fetchOffsets(groupId: string, topics: { name: string; partitions: number[] }[] | null): FetchOffsetsResult {
    const status = this.#status_(groupId, true);
    if (status !== ErrorCode.NONE) {
      return {
        errorCode: status,
        topics: (topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitions.map((partition) => ({
            partition,
            offset: -1,
            leaderEpoch: -1,
            metadata: '',
            errorCode: status,
          })),
        })),
      };
    }
    const group = this.#groups.get(groupId);
    const found = (topic: string, partition: number): FetchedOffset => {
      const committed = group?.offsets.get(offsetKey(topic, partition));
      return committed
        ? {
            partition,
            offset: committed.offset,
            leaderEpoch: committed.leaderEpoch,
            metadata: committed.metadata,
            errorCode: ErrorCode.NONE,
          }
        : { partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE };
    };
    if (topics !== null) {
      return {
        errorCode: ErrorCode.NONE,
        topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => found(t.name, p)) })),
      };
    }
    const byTopic = new Map<string, number[]>();
    for (const o of group?.offsets.values() ?? []) {
      const list = byTopic.get(o.topic) ?? [];
      list.push(o.partition);
      byTopic.set(o.topic, list);
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: [...byTopic].map(([name, partitions]) => ({
        name,
        partitions: partitions.sort((a, b) => a - b).map((p) => found(name, p)),
      })),
    };
  }

  async deleteOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[],
  ): Promise<DeleteOffsetsResult> {
    const status = this.#status_(groupId, false);
    if (status !== ErrorCode.NONE) return { errorCode: status, partitions: [] };
    const group = this.#groups.get(groupId);
    if (!group || group.state === 'Dead') return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let deletable: { topic: string; partition: number }[];
    const results: { topic: string; partition: number; errorCode: number }[] = [];
    if (group.state === 'Empty') {
      deletable = partitions;
    } else if (group.protocolType === 'consumer') {
      deletable = [];
      for (const tp of partitions) {
        if (group.isSubscribedToTopic(tp.topic))
          results.push({ ...tp, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC });
        else deletable.push(tp);
      }
    } else {
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
    }
    const removed = deletable.filter((tp) => group.offsets.has(offsetKey(tp.topic, tp.partition)));
    for (const tp of removed) group.offsets.delete(offsetKey(tp.topic, tp.partition));
    for (const tp of deletable) results.push({ ...tp, errorCode: ErrorCode.NONE });
    if (removed.length > 0) {
      const result = await this.#append(
        groupId,
        removed.map((tp) => offsetCommitRecord(groupId, tp.topic, tp.partition, null)),
      );
      if (!result.ok)
        this.#logger.warn(`offset tombstones for group ${groupId} not written: ${result.message}`);
    }
    const order = new Map(partitions.map((tp, i) => [offsetKey(tp.topic, tp.partition), i]));
    results.sort(
      (a, b) => order.get(offsetKey(a.topic, a.partition))! - order.get(offsetKey(b.topic, b.partition))!,
    );
    return { errorCode: ErrorCode.NONE, partitions: results };
  }

  /**
   * Forgets every group's committed offsets for a deleted topic (with tombstones), as Kafka does when a topic
   * goes: a topic re-created under the same name must not resume at the old positions. Resolves to the number
   * of offsets removed. To be called by whoever deletes topics.
   */
  async deleteTopicOffsets(topic: string): Promise<number> {
    const writes: Promise<GroupLogAppendResult>[] = [];
    let removed = 0;
    for (const group of this.#groups.values()) {
      const gone = [...group.offsets.values()].filter((o) => o.topic === topic);
      if (gone.length === 0) continue;
      for (const o of gone) group.offsets.delete(offsetKey(o.topic, o.partition));
      removed += gone.length;
      writes.push(
        this.#append(
          group.groupId,
          gone.map((o) => offsetCommitRecord(group.groupId, o.topic, o.partition, null)),
        ),
      );
    }
    for (const result of await Promise.all(writes)) {
      if (!result.ok)
        this.#logger.warn(`offset tombstones for deleted topic ${topic} not written: ${result.message}`);
    }
    return removed;
  }

  // --- retention --------------------------------------------------------------------------------------------

  #scheduleRetentionCheck(): void {
    if (this.#status !== 'active') return;
    this.#retentionTimer = this.#scheduler.schedule(this.#config.offsetsRetentionCheckIntervalMs, () => {
      this.#scheduleRetentionCheck();
      void this.expireOffsets();
    });
  }

  /**
   * Kafka's offset expiration: an Empty consumer group's offsets expire `offsets.retention.minutes` after it
   * became empty; a group that only stores offsets expires each one that long after its commit; a Stable
   * consumer group loses the offsets of topics nobody subscribes to any more. An Empty group with no offsets
   * left is deleted. Resolves to the number of offsets removed.
   */
  async expireOffsets(): Promise<number> {
    if (this.#status !== 'active') return 0;
    const now = this.#scheduler.now();
    const retention = this.#config.offsetsRetentionMs;
    let removed = 0;
    const writes: Promise<unknown>[] = [];
    for (const group of [...this.#groups.values()]) {
      if (this.#loading.has(this.partitionFor(group.groupId))) continue;
      let base: ((o: CommittedOffset) => number) | undefined;
      let subscribed: Set<string> | undefined;
      if (group.protocolType !== null && group.state === 'Empty') {
        base = (o) => group.currentStateTimestamp ?? o.commitTimestamp;
      } else if (group.protocolType === 'consumer' && group.state === 'Stable') {
        subscribed = group.subscribedTopics();
        if (subscribed) base = (o) => o.commitTimestamp;
      } else if (group.protocolType === null) {
        base = (o) => o.commitTimestamp;
      }
      if (!base) continue;
      const expired: CommittedOffset[] = [];
      for (const o of group.offsets.values()) {
        if (subscribed?.has(o.topic)) continue;
        const due = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base(o) >= retention;
        if (due) expired.push(o);
      }
      for (const o of expired) group.offsets.delete(offsetKey(o.topic, o.partition));
      removed += expired.length;
      const records: CoordinatorRecord[] = expired.map((o) =>
        offsetCommitRecord(group.groupId, o.topic, o.partition, null),
      );
      if (
        group.state === 'Empty' &&
        group.offsets.size === 0 &&
        group.members.size === 0 &&
        group.pendingMembers.size === 0
      ) {
        this.#markDead(group);
        records.push(groupMetadataRecord(group.groupId, null));
      }
      if (records.length > 0) writes.push(this.#append(group.groupId, records));
    }
    await Promise.all(writes);
    if (removed > 0) this.#logger.info(`expired ${removed} committed offsets`);
    return removed;
  }

  // --- persistence ------------------------------------------------------------------------------------------

  // One append in flight per partition, so records land in the order the state changed. Whatever arrives
  // meanwhile is written next as a single batch (a group commit): many small OffsetCommits cost one append.
  #append(groupId: string, records: CoordinatorRecord[]): Promise<GroupLogAppendResult> {
    const partition = this.partitionFor(groupId);
    return new Promise((resolve) => {
      const bytes = records.reduce((n, r) => n + r.key.length + (r.value?.length ?? 0), 0);
      const queue = this.#pendingWrites.get(partition) ?? [];
      queue.push({ records, bytes, resolve });
      this.#pendingWrites.set(partition, queue);
      if (!this.#writing.has(partition)) this.#writing.set(partition, this.#writeLoop(partition));
    });
  }

  // The loop leaves #writing in the same synchronous step in which it sees an empty queue (not in a later
  // .finally): a write queued by a continuation that runs in between would otherwise find a loop registered
  // that has already finished, and never be written.
  async #writeLoop(partition: number): Promise<void> {
    // The first write waits for __consumer_offsets, which is created on first use.
    if (this.#partitions === 0 && !(await this.ensureOffsetsTopic())) {
      const failed: GroupLogAppendResult = {
        ok: false,
        reason: 'unavailable',
        message: '__consumer_offsets could not be created',
      };
      for (const write of this.#pendingWrites.get(partition) ?? []) write.resolve(failed);
      this.#pendingWrites.delete(partition);
      this.#writing.delete(partition);
      return;
    }
    for (;;) {
      const queue = this.#pendingWrites.get(partition);
      if (!queue || queue.length === 0) {
        this.#pendingWrites.delete(partition);
        this.#writing.delete(partition);
        return;
      }
      let size = 0;
      let take = 0;
      while (take < queue.length && (take === 0 || size + queue[take]!.bytes <= MAX_COALESCED_BYTES)) {
        size += queue[take]!.bytes;
        take++;
      }
      const batch = queue.splice(0, take);
      const result = await this.#log
        .append(
          partition,
          batch.flatMap((w) => w.records),
          this.#scheduler.now(),
        )
        .catch((error: Error): GroupLogAppendResult => ({
          ok: false,
          reason: 'unavailable',
          message: error.message,
        }));
      for (const write of batch) write.resolve(result);
    }
  }

  #storeGroup(group: ClassicGroup, assignments?: Map<string, Buffer>): Promise<GroupLogAppendResult> {
    const stored: StoredGroup = {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      currentStateTimestamp: group.currentStateTimestamp ?? this.#scheduler.now(),
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: m.metadataFor(group.protocolName),
        assignment: assignments?.get(m.memberId) ?? m.assignment,
      })),
    };
    return this.#append(group.groupId, [groupMetadataRecord(group.groupId, stored)]);
  }

  async #loadPartition(partition: number): Promise<void> {
    const offsets = new Map<string, Map<string, CommittedOffset>>();
    const metadata = new Map<string, StoredGroup | null>();
    let skipped = 0;
    await this.#log.load(partition, (key, value) => {
      let record;
      try {
        record = decodeCoordinatorRecord(key, value);
      } catch {
        skipped++;
        return;
      }
      if (record.type === 'offset') {
        let groupOffsets = offsets.get(record.group);
        if (!groupOffsets) offsets.set(record.group, (groupOffsets = new Map()));
        const k = offsetKey(record.topic, record.partition);
        if (record.offset === null) groupOffsets.delete(k);
        else groupOffsets.set(k, { topic: record.topic, partition: record.partition, ...record.offset });
      } else if (record.type === 'group') {
        metadata.set(record.group, record.metadata);
        // A group tombstone drops the offsets written before it, as in Kafka's loader.
        if (record.metadata === null) offsets.delete(record.group);
      }
    });
    if (skipped > 0) this.#logger.warn(`skipped ${skipped} unreadable records in partition ${partition}`);
    const ids = new Set([...offsets.keys(), ...[...metadata].filter(([, m]) => m !== null).map(([g]) => g)]);
    for (const groupId of ids) {
      const stored = metadata.get(groupId) ?? null;
      const groupOffsets = offsets.get(groupId);
      if (!stored && (!groupOffsets || groupOffsets.size === 0)) continue;
      const group = new ClassicGroup(groupId);
      if (stored) this.#restoreGroup(group, stored);
      for (const [k, o] of groupOffsets ?? []) group.offsets.set(k, o as CommittedOffset & StoredOffset);
      this.#groups.set(groupId, group);
    }
  }

  #restoreGroup(group: ClassicGroup, stored: StoredGroup): void {
    group.protocolType = stored.protocolType === '' ? null : stored.protocolType;
    group.generationId = stored.generation;
    group.protocolName = stored.protocol;
    group.leaderId = stored.leader;
    group.currentStateTimestamp = stored.currentStateTimestamp >= 0 ? stored.currentStateTimestamp : null;
    for (const m of stored.members) {
      const member = new GroupMember({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        protocols: [{ name: stored.protocol ?? '', metadata: m.subscription }],
      });
      member.assignment = m.assignment;
      group.members.set(m.memberId, member);
      if (m.groupInstanceId !== null) group.staticMembers.set(m.groupInstanceId, m.memberId);
    }
    // Loaded members are trusted to still be alive until their session runs out.
    group.state = group.members.size > 0 ? 'Stable' : 'Empty';
    for (const member of group.members.values()) this.#scheduleHeartbeat(group, member);
  }

  /** For tests and tools: a snapshot of one group's state. */
  groupState(
    groupId: string,
  ): { state: GroupState; generationId: number; leaderId: string | null; members: string[] } | undefined {
    const group = this.#groups.get(groupId);
    if (!group) return undefined;
    return {
      state: group.state,
      generationId: group.generationId,
      leaderId: group.leaderId,
      members: [...group.members.keys()],
    };
  }
}
