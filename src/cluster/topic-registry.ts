// The topics this broker knows: name, topic id, partition count and per-topic config overrides.
//
// Persisted as <log.dir>/fjord-topics.json ({ "version": 1, "topics": [{ name, topicId, partitions,
// configs }] }), rewritten atomically (temporary file, fsync, rename) on every change, so topics and their configs survive
// restarts. On a single broker this file is the metadata store; with ZooKeeper it becomes a cache of it.
// Main thread only.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../storage/index.js';
import { newUuid } from './meta-properties.js';

export interface TopicMetadata {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
  readonly configs: Readonly<Record<string, string>>;
}

export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules; returns why a name is illegal, or null when it is fine. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'Topic name is illegal, it can not be empty';
  if (name === '.' || name === '..') return "Topic name cannot be '.' or '..'";
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters`;
  }
  if (!LEGAL_TOPIC_NAME.test(name)) {
    return `Topic name '${name}' is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

/** Kafka refuses topics whose names differ only by '.' versus '_' (their metric names would collide). */
export function collidingName(name: string): string {
  return name.replace(/\./g, '_');
}

export class TopicRegistry {
  readonly #path: string;
  readonly #topics = new Map<string, TopicMetadata>();
  readonly #byId = new Map<string, TopicMetadata>();

  constructor(logDir: string) {
    this.#path = join(logDir, 'fjord-topics.json');
    if (existsSync(this.#path)) {
      const stored = JSON.parse(readFileSync(this.#path, 'utf8')) as {
        version: number;
        topics: TopicMetadata[];
      };
      if (stored.version !== 1) throw new Error(`${this.#path}: unsupported version ${stored.version}`);
      for (const topic of stored.topics) this.#index(topic);
    }
  }

  get(name: string): TopicMetadata | undefined {
    return this.#topics.get(name);
  }

  byId(topicId: string): TopicMetadata | undefined {
    return this.#byId.get(topicId);
  }

  list(): TopicMetadata[] {
    return [...this.#topics.values()];
  }

  /** A topic that already exists under a colliding name ('.' vs '_'), if any. */
  collision(name: string): TopicMetadata | undefined {
    const key = collidingName(name);
    return this.list().find((topic) => topic.name !== name && collidingName(topic.name) === key);
  }

  create(name: string, partitions: number, configs: Record<string, string>): TopicMetadata {
    if (this.#topics.has(name)) throw new Error(`topic ${name} already exists`);
    const topic: TopicMetadata = { name, topicId: newUuid(), partitions, configs: { ...configs } };
    this.#index(topic);
    this.#save();
    return topic;
  }

  update(name: string, change: Partial<Pick<TopicMetadata, 'partitions' | 'configs'>>): TopicMetadata {
    const current = this.#topics.get(name);
    if (!current) throw new Error(`unknown topic ${name}`);
    const updated = { ...current, ...change };
    this.#index(updated);
    this.#save();
    return updated;
  }

  delete(name: string): TopicMetadata | undefined {
    const topic = this.#topics.get(name);
    if (!topic) return undefined;
    this.#topics.delete(name);
    this.#byId.delete(topic.topicId);
    this.#save();
    return topic;
  }

  #index(topic: TopicMetadata): void {
    this.#topics.set(topic.name, topic);
    this.#byId.set(topic.topicId, topic);
  }

  #save(): void {
    const topics = this.list().sort((a, b) => a.name.localeCompare(b.name));
    writeFileAtomically(this.#path, JSON.stringify({ version: 1, topics }, null, 2) + '\n');
  }
}
