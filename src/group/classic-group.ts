// One classic-protocol group as the coordinator holds it: members, generation, chosen protocol, committed
// offsets, and the timers that drive its state machine. The transitions themselves live in
// group-coordinator.ts; this file keeps the data and the rules that only read it.
//
//   Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance ──leader sync──▶ Stable
//     ▲                    ▲  └──no members left──▶ Empty               │                             │
//     │                    └──────────── join, leave, expiry, protocol change ───────────────────────┘
//     └── Dead: deleted (DeleteGroups, or offsets expired while Empty); a Dead group is out of the map.
//
// Main thread only.
import { ConsumerProtocolSubscription } from '../protocol/messages/consumer-protocol-subscription.js';
import { decodeVersioned } from '../protocol/internal/index.js';
import type { TimerHandle } from './scheduler.js';
import type { StoredOffset } from './group-records.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';
export const GROUP_STATES: readonly GroupState[] = [
  'Empty',
  'PreparingRebalance',
  'CompletingRebalance',
  'Stable',
  'Dead',
];

export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  memberId: string;
  skipAssignment: boolean;
  members: JoinMember[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export const EMPTY_BYTES = Buffer.alloc(0);

export class GroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocols: GroupProtocol[];
  assignment: Buffer = EMPTY_BYTES;
  /** Set while the member's JoinGroup waits for the rebalance to complete. */
  joinWaiter: ((result: JoinResult) => void) | undefined;
  /** Set while the member's SyncGroup waits for the leader's assignment. */
  syncWaiter: ((result: SyncResult) => void) | undefined;
  heartbeatTimer: TimerHandle | undefined;

  constructor(options: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocols: GroupProtocol[];
  }) {
    this.memberId = options.memberId;
    this.groupInstanceId = options.groupInstanceId;
    this.clientId = options.clientId;
    this.clientHost = options.clientHost;
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs;
    this.sessionTimeoutMs = options.sessionTimeoutMs;
    this.protocols = options.protocols;
  }

  metadataFor(protocol: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY_BYTES;
  }

  /** Same protocols, in the same order, with the same metadata: a rejoin that needs no rebalance. */
  matches(protocols: GroupProtocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every(
        (p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata),
      )
    );
  }
}

export interface CommittedOffset extends StoredOffset {
  topic: string;
  partition: number;
}

export class ClassicGroup {
  readonly groupId: string;
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** When the group last changed state (ms): offsets of an Empty group expire counting from here. */
  currentStateTimestamp: number | null = null;
  readonly members = new Map<string, GroupMember>();
  /** group.instance.id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet, with their expiry timers. */
  readonly pendingMembers = new Map<string, TimerHandle>();
  /** Members of this generation that have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  /** Committed offsets by `topic\0partition`. */
  readonly offsets = new Map<string, CommittedOffset>();
  joinTimer: TimerHandle | undefined;
  syncTimer: TimerHandle | undefined;
  /** group.initial.rebalance.delay.ms bookkeeping: a join during the delay extends it, up to the rebalance timeout. */
  initialDelay: { remainingMs: number; newMemberAdded: boolean } | undefined;

  constructor(groupId: string) {
    this.groupId = groupId;
  }

  transition(state: GroupState, now: number): void {
    this.state = state;
    this.currentStateTimestamp = now;
  }

  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const member of this.members.values()) max = Math.max(max, member.rebalanceTimeoutMs);
    return max;
  }

  isStaticMemberFenced(memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  /** Protocols every current member supports. */
  #commonProtocols(): Set<string> | undefined {
    let common: Set<string> | undefined;
    for (const member of this.members.values()) {
      const names = new Set(member.protocols.map((p) => p.name));
      common = common === undefined ? names : new Set([...common].filter((n) => names.has(n)));
    }
    return common;
  }

  supportsProtocols(protocolType: string, protocols: GroupProtocol[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const common = this.#commonProtocols()!;
    return protocols.some((p) => common.has(p.name));
  }

  /** Each member votes for its most preferred protocol among those all support; the most votes wins. */
  selectProtocol(): string {
    const common = this.#commonProtocols() ?? new Set<string>();
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const choice = member.protocols.find((p) => common.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [name, count] of votes) if (best === undefined || count > votes.get(best)!) best = name;
    if (best === undefined) throw new Error(`group ${this.groupId} has no protocol all members support`);
    return best;
  }

  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const member of this.members.values()) if (!member.joinWaiter) return false;
    return true;
  }

  /**
   * The topics the members subscribe to, from their consumer-protocol metadata; undefined when the group is
   * not a consumer group or a subscription cannot be read (callers then assume every topic is in use).
   */
  subscribedTopics(): Set<string> | undefined {
    if (this.protocolType !== 'consumer' || this.protocolName === null) return undefined;
    const topics = new Set<string>();
    for (const member of this.members.values()) {
      try {
        const { value } = decodeVersioned(
          ConsumerProtocolSubscription,
          member.metadataFor(this.protocolName),
          {
            newerAsLatest: true,
          },
        );
        for (const topic of value.topics) topics.add(topic);
      } catch {
        return undefined;
      }
    }
    return topics;
  }

  isSubscribedToTopic(topic: string): boolean {
    const topics = this.subscribedTopics();
    return topics === undefined || topics.has(topic);
  }
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}
