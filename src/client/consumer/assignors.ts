// Partition assignors for the classic consumer group protocol. The group leader runs the assignor that the
// coordinator picked (the first protocol every member supports, by the members' votes) over every member's
// subscription. Range and round-robin follow Kafka's algorithms exactly, so a group that mixes Fjord
// consumers with Java, librdkafka or kafka-python consumers gets the same split whichever member leads.

/** One member's subscription, as the leader sees it in JoinGroup. */
export interface MemberSubscription {
  memberId: string;
  groupInstanceId: string | null;
  topics: string[];
}

/** Topic-partitions per member id. */
export type GroupAssignment = Map<string, Map<string, number[]>>;

export interface Assignor {
  /** The protocol name sent in JoinGroup ('range', 'roundrobin'). */
  readonly name: string;
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

export const ASSIGNORS: Readonly<Record<string, Assignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
};
