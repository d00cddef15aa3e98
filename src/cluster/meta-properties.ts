// <log.dir>/meta.properties: the identity of a broker's data, as Kafka keeps it:
//   version=1
//   cluster.id=<22-char base64url uuid>
//   node.id=<int>
// Created on first start. A later start with a different node.id refuses to run, as Kafka does, rather
// than serving another broker's data under a new identity.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProperties } from '../config/properties.js';
import { writeFileAtomically } from '../storage/index.js';

export interface MetaProperties {
  clusterId: string;
  nodeId: number;
}

export function newUuid(): string {
  return randomBytes(16).toString('base64url');
}

export function loadOrCreateMetaProperties(
  logDir: string,
  nodeId: number,
  clusterId?: string,
): MetaProperties {
  const path = join(logDir, 'meta.properties');
  if (existsSync(path)) {
    const props = parseProperties(readFileSync(path, 'utf8'));
    const storedNode = Number(props.get('node.id') ?? props.get('broker.id'));
    const storedCluster = props.get('cluster.id');
    if (!storedCluster) throw new Error(`${path} has no cluster.id`);
    if (storedNode !== nodeId) {
      throw new Error(
        `${path} belongs to node.id ${storedNode}, but this broker is configured as node.id ${nodeId}`,
      );
    }
    if (clusterId !== undefined && clusterId !== storedCluster) {
      throw new Error(`${path} belongs to cluster ${storedCluster}, not ${clusterId}`);
    }
    return { clusterId: storedCluster, nodeId };
  }
  const meta = { clusterId: clusterId ?? newUuid(), nodeId };
  writeFileAtomically(path, `version=1\ncluster.id=${meta.clusterId}\nnode.id=${nodeId}\n`);
  return meta;
}
