// DescribeLogDirs v0–4. The broker's log dir with the size of each partition log in it and how far each
// partition's log end is ahead of its high watermark (offsetLag; 0 on a single broker, where the high
// watermark follows every append). isFutureKey is always false: Fjord has no replica moves between dirs.
// v1: same as v0 (throttling behaviour); v2: flexible; v3: top-level error code; v4: the dir's total and
// usable bytes (statfs of the file system holding it).
// topics null = every partition; named topics or partitions that do not exist are left out, as Kafka does.
// Only the first of log.dirs is used (the broker warns about the others at start), so there is one result.
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  DescribeLogDirs,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
  type DescribeLogDirsResponseDescribeLogDirsTopic,
} from '../../protocol/messages/describe-log-dirs.js';
import { handler } from './define.js';

function errorResponse(_request: DescribeLogDirsRequest, errorCode: number): DescribeLogDirsResponse {
  return { throttleTimeMs: 0, errorCode, results: [] };
}

export const describeLogDirsHandler = handler(
  DescribeLogDirs,
  { min: 0, max: 4 },
  async (request, { broker, version }) => {
    const logDir = resolve(broker.config.logDirs[0]!);
    const wanted =
      request.topics === null ? null : new Map(request.topics.map((t) => [t.topic, new Set(t.partitions)]));
    const byTopic = new Map<string, DescribeLogDirsResponseDescribeLogDirsTopic>();
    for (const size of await broker.partitions.sizes()) {
      const where = broker.partitions.partitionOf(size.id);
      if (!where) continue;
      if (wanted && !wanted.get(where.topic)?.has(where.partition)) continue;
      let topic = byTopic.get(where.topic);
      if (!topic) byTopic.set(where.topic, (topic = { name: where.topic, partitions: [] }));
      topic.partitions.push({
        partitionIndex: where.partition,
        partitionSize: BigInt(size.size),
        offsetLag: BigInt(size.offsetLag),
        isFutureKey: false,
      });
    }
    const topics = [...byTopic.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const topic of topics) topic.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex);
    let totalBytes = -1n;
    let usableBytes = -1n;
    if (version >= 4) {
      const fs = await statfs(logDir, { bigint: true });
      totalBytes = fs.blocks * fs.bsize;
      usableBytes = fs.bavail * fs.bsize;
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{ errorCode: ErrorCode.NONE, logDir, topics, totalBytes, usableBytes }],
    };
  },
  errorResponse,
);
