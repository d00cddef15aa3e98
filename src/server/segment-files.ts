// Read-only descriptors for segment files, opened by the main thread for Fetch responses.
//
// Workers own the logs and report record data as (path, position, length); the main thread sends those
// bytes with its own descriptor, so a worker closing or deleting a segment never invalidates a send in
// flight (an unlinked file stays readable through an open descriptor). Descriptors are cached by path and
// reference-counted while a response uses them; unused ones are closed beyond `maxOpen`. Deleting a topic
// must call forgetDirectory(), since a re-created topic reuses the same paths.
// Main thread only.
import { closeSync, openSync } from 'node:fs';
import { sep } from 'node:path';

interface Entry {
  fd: number;
  refs: number;
  lastUsed: number;
}

export class SegmentFiles {
  readonly #entries = new Map<string, Entry>();
  /** Descriptors forgotten while responses still use them, by fd. */
  readonly #orphans = new Map<number, Entry>();
  readonly #maxOpen: number;
  #clock = 0;

  constructor(maxOpen = 512) {
    this.#maxOpen = maxOpen;
  }

  get openCount(): number {
    return this.#entries.size;
  }

  /** A descriptor for `path`, held until release(path, fd) is called. Throws if the file is gone. */
  acquire(path: string): number {
    let entry = this.#entries.get(path);
    if (!entry) {
      entry = { fd: openSync(path, 'r'), refs: 0, lastUsed: 0 };
      this.#entries.set(path, entry);
      this.#evict();
    }
    entry.refs++;
    entry.lastUsed = ++this.#clock;
    return entry.fd;
  }

  release(path: string, fd: number): void {
    const entry = this.#entries.get(path);
    if (entry && entry.fd === fd) {
      entry.refs--;
      return;
    }
    // Forgotten while in use: close once the last holder lets go.
    const orphan = this.#orphans.get(fd);
    if (orphan && --orphan.refs === 0) {
      this.#orphans.delete(fd);
      closeSync(fd);
    }
  }

  /** Drops every descriptor under `dir` (a deleted topic's partition directory). */
  forgetDirectory(dir: string): void {
    const prefix = dir.endsWith(sep) ? dir : dir + sep;
    for (const [path, entry] of this.#entries) {
      if (!path.startsWith(prefix)) continue;
      this.#entries.delete(path);
      if (entry.refs === 0) closeSync(entry.fd);
      else this.#orphans.set(entry.fd, entry);
    }
  }

  closeAll(): void {
    for (const [path] of this.#entries) this.forgetDirectory(path.slice(0, path.lastIndexOf(sep)));
  }

  #evict(): void {
    if (this.#entries.size <= this.#maxOpen) return;
    const idle = [...this.#entries]
      .filter(([, e]) => e.refs === 0)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [path, entry] of idle.slice(0, this.#entries.size - this.#maxOpen)) {
      this.#entries.delete(path);
      closeSync(entry.fd);
    }
  }
}
