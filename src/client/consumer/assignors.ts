// Partition assignors for the classic consumer group protocol. The group leader runs the assignor that the
// coordinator picked (the first protocol every member supports, by the members' votes) over every member's
// subscription. Range and round-robin follow Kafka's algorithms exactly, so a group that mixes Fjord
// consumers with Java, librdkafka or kafka-python consumers gets the same split whichever member leads.

/** One member's subscription, as the leader sees it in JoinGroup. */
export interface MemberSubscription {
  memberId: string;
  groupInstanceId: string | null;
  topics: string[];
  /** What the member owns now (sent by cooperative members only). */
  ownedPartitions?: { topic: string; partitions: number[] }[];
}

/** Topic-partitions per member id. */
export type GroupAssignment = Map<string, Map<string, number[]>>;

export interface Assignor {
  /** The protocol name sent in JoinGroup ('range', 'roundrobin'). */
  readonly name: string;
  /**
   * Cooperative (incremental) rebalancing: members keep what they own while they rejoin, and a partition
   * moves in two rebalances (its owner gives it up, then it is assigned anew).
   */
  readonly cooperative?: boolean;
  /** `partitions`: partition count per subscribed topic (topics missing from the metadata are absent). */
  assign(members: MemberSubscription[], partitions: ReadonlyMap<string, number>): GroupAssignment;
}

/**
 * Kafka orders members by group.instance.id when they have one (static members keep their place across
 * restarts), then by member id.
 */
function compareMembers(a: MemberSubscription, b: MemberSubscription): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null)
    return a.groupInstanceId < b.groupInstanceId ? -1 : a.groupInstanceId > b.groupInstanceId ? 1 : 0;
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

function emptyAssignment(members: MemberSubscription[]): GroupAssignment {
  return new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]));
}

function add(assignment: GroupAssignment, memberId: string, topic: string, partition: number): void {
  const topics = assignment.get(memberId)!;
  const list = topics.get(topic);
  if (list === undefined) topics.set(topic, [partition]);
  else list.push(partition);
}

/** Per topic: each subscriber gets a contiguous range; the first (count % subscribers) get one more. */
export const rangeAssignor: Assignor = {
  name: 'range',
  assign(members, partitions) {
    const out = emptyAssignment(members);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    for (const topic of topics) {
      const count = partitions.get(topic);
      if (count === undefined) continue;
      const subscribers = members.filter((m) => m.topics.includes(topic)).sort(compareMembers);
      const per = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      subscribers.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) add(out, m.memberId, topic, p);
      });
    }
    return out;
  },
};

/**
 * All partitions of all subscribed topics in (topic, partition) order, dealt to the members in turn; a member
 * not subscribed to a partition's topic is passed over.
 */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  assign(members, partitions) {
    const out = emptyAssignment(members);
    const sorted = [...members].sort(compareMembers);
    if (sorted.length === 0) return out;
    const topics = [...new Set(members.flatMap((m) => m.topics))].filter((t) => partitions.has(t)).sort();
    let next = 0;
    for (const topic of topics) {
      const count = partitions.get(topic)!;
      for (let p = 0; p < count; p++) {
        // Some member is subscribed to every listed topic, so this ends within one lap.
        while (!sorted[next % sorted.length]!.topics.includes(topic)) next++;
        add(out, sorted[next % sorted.length]!.memberId, topic, p);
        next++;
      }
    }
    return out;
  },
};

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Kafka's cooperative-sticky: a balanced assignment (counts differ by at most one) that keeps as many owned
 * partitions where they are as balance allows; then every partition that would move away from a member that
 * still owns it is left out, so its owner revokes it first and the follow-up rebalance assigns it.
 */
export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  cooperative: true,
  assign(members, partitions) {
    const out = emptyAssignment(members);
    const sorted = [...members].sort(compareMembers);
    if (sorted.length === 0) return out;
    const all: { topic: string; partition: number }[] = [];
    for (const topic of [...new Set(members.flatMap((m) => m.topics))].sort()) {
      const count = partitions.get(topic);
      if (count !== undefined) for (let p = 0; p < count; p++) all.push({ topic, partition: p });
    }
    const exists = new Set(all.map((tp) => tpKey(tp.topic, tp.partition)));
    // Previous owners; a partition two members claim (a stale member) stays with the first in member order.
    const owner = new Map<string, string>();
    const owned = new Map<string, { topic: string; partition: number }[]>();
    for (const m of sorted) {
      const list: { topic: string; partition: number }[] = [];
      for (const t of m.ownedPartitions ?? []) {
        if (!m.topics.includes(t.topic)) continue;
        for (const partition of [...t.partitions].sort((a, b) => a - b)) {
          const k = tpKey(t.topic, partition);
          if (!exists.has(k) || owner.has(k)) continue;
          owner.set(k, m.memberId);
          list.push({ topic: t.topic, partition });
        }
      }
      owned.set(m.memberId, list);
    }
    const minQuota = Math.floor(all.length / sorted.length);
    let maxSlots = all.length % sorted.length;
    const counts = new Map(sorted.map((m) => [m.memberId, 0]));
    const taken = new Set<string>();
    const give = (memberId: string, tp: { topic: string; partition: number }): void => {
      add(out, memberId, tp.topic, tp.partition);
      taken.add(tpKey(tp.topic, tp.partition));
      counts.set(memberId, counts.get(memberId)! + 1);
    };
    // Keep owned partitions up to the quota: min for everyone, one more while over-quota slots remain.
    for (const m of sorted) {
      const list = owned.get(m.memberId)!;
      list.slice(0, minQuota).forEach((tp) => give(m.memberId, tp));
      if (list.length > minQuota && maxSlots > 0) {
        give(m.memberId, list[minQuota]!);
        maxSlots--;
      }
    }
    const free = all.filter((tp) => !taken.has(tpKey(tp.topic, tp.partition)));
    const takeFor = (m: MemberSubscription): boolean => {
      const i = free.findIndex((tp) => m.topics.includes(tp.topic));
      if (i < 0) return false;
      give(m.memberId, free.splice(i, 1)[0]!);
      return true;
    };
    for (const m of sorted) while (counts.get(m.memberId)! < minQuota && takeFor(m));
    for (const m of sorted) if (maxSlots > 0 && counts.get(m.memberId) === minQuota && takeFor(m)) maxSlots--;
    // Subscriptions that differ can leave partitions over: the least loaded subscriber takes each.
    for (const tp of [...free]) {
      const subscribers = sorted.filter((m) => m.topics.includes(tp.topic));
      if (subscribers.length === 0) continue;
      const least = subscribers.reduce((a, b) => (counts.get(b.memberId)! < counts.get(a.memberId)! ? b : a));
      free.splice(free.indexOf(tp), 1);
      give(least.memberId, tp);
    }
    // The cooperative rule: nothing moves straight from one member to another within one rebalance.
    for (const [memberId, topics] of out) {
      for (const [topic, list] of topics) {
        const kept = list.filter((p) => {
          const previous = owner.get(tpKey(topic, p));
          return previous === undefined || previous === memberId;
        });
        if (kept.length > 0) topics.set(topic, kept);
        else topics.delete(topic);
      }
    }
    return out;
  },
};

export const ASSIGNORS: Readonly<Record<string, Assignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};
