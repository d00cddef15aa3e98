// The records of __consumer_offsets, in Kafka's formats (src/protocol/internal/):
//   offset commit:  key = int16 1 + OffsetCommitKey{group, topic, partition}
//                   value = int16 3 + OffsetCommitValue{offset, leaderEpoch, metadata, commitTimestamp}
//                   (value version 1, with expireTimestamp, when the commit carried a retention time)
//   group metadata: key = int16 2 + GroupMetadataKey{group}
//                   value = int16 3 + GroupMetadataValue{protocolType, generation, protocol, leader,
//                   currentStateTimestamp, members[]}
// A null value is a tombstone: the offset, or the whole group, is gone. Key versions 0 and 1 are both offset
// commits (0 is what Kafka 0.8.2 wrote); Kafka reads either, and so do we.
import {
  GroupMetadataKey,
  GroupMetadataValue,
  OffsetCommitKey,
  OffsetCommitValue,
  encodeVersioned,
  decodeVersioned,
} from '../protocol/internal/index.js';
import { Reader } from '../protocol/primitives/reader.js';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
export const GROUP_METADATA_VALUE_VERSION = 3;

export interface StoredOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1: none (the broker's offsets.retention.minutes applies). */
  expireTimestamp: number;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface StoredGroup {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: StoredMember[];
}

export interface CoordinatorRecord {
  key: Buffer;
  value: Buffer | null;
}

export type DecodedCoordinatorRecord =
  | { type: 'offset'; group: string; topic: string; partition: number; offset: StoredOffset | null }
  | { type: 'group'; group: string; metadata: StoredGroup | null }
  | { type: 'unknown'; keyVersion: number };

export function offsetCommitRecord(
  group: string,
  topic: string,
  partition: number,
  offset: StoredOffset | null,
): CoordinatorRecord {
  const key = encodeVersioned(OffsetCommitKey, OFFSET_COMMIT_KEY_VERSION, { group, topic, partition });
  if (offset === null) return { key, value: null };
  const version = offset.expireTimestamp >= 0 ? 1 : 3;
  const value = encodeVersioned(OffsetCommitValue, version, {
    offset: BigInt(offset.offset),
    leaderEpoch: offset.leaderEpoch,
    metadata: offset.metadata,
    commitTimestamp: BigInt(offset.commitTimestamp),
    expireTimestamp: BigInt(offset.expireTimestamp),
  });
  return { key, value };
}

export function groupMetadataRecord(group: string, metadata: StoredGroup | null): CoordinatorRecord {
  const key = encodeVersioned(GroupMetadataKey, GROUP_METADATA_KEY_VERSION, { group });
  if (metadata === null) return { key, value: null };
  const value = encodeVersioned(GroupMetadataValue, GROUP_METADATA_VALUE_VERSION, {
    protocolType: metadata.protocolType,
    generation: metadata.generation,
    protocol: metadata.protocol,
    leader: metadata.leader,
    currentStateTimestamp: BigInt(metadata.currentStateTimestamp),
    members: metadata.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
      subscription: m.subscription,
      assignment: m.assignment,
    })),
  });
  return { key, value };
}

/** Throws ProtocolError on a malformed key or value (the caller decides whether to skip it). */
export function decodeCoordinatorRecord(key: Buffer, value: Buffer | null): DecodedCoordinatorRecord {
  const keyVersion = new Reader(key).int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const { value: k } = decodeVersioned(OffsetCommitKey, key);
    if (value === null) return { type: 'offset', ...k, offset: null };
    const { value: v } = decodeVersioned(OffsetCommitValue, value);
    return {
      type: 'offset',
      ...k,
      offset: {
        offset: Number(v.offset),
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestamp: Number(v.commitTimestamp),
        expireTimestamp: Number(v.expireTimestamp),
      },
    };
  }
  if (keyVersion === 2) {
    const { value: k } = decodeVersioned(GroupMetadataKey, key);
    if (value === null) return { type: 'group', group: k.group, metadata: null };
    const { value: v } = decodeVersioned(GroupMetadataValue, value);
    return {
      type: 'group',
      group: k.group,
      metadata: {
        protocolType: v.protocolType,
        generation: v.generation,
        protocol: v.protocol,
        leader: v.leader,
        currentStateTimestamp: Number(v.currentStateTimestamp),
        members: v.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeout,
          sessionTimeoutMs: m.sessionTimeout,
          subscription: m.subscription,
          assignment: m.assignment,
        })),
      },
    };
  }
  return { type: 'unknown', keyVersion };
}
