// Tagged fields (flexible versions, KIP-482): a section at the end of every struct and header:
//   unsigned varint count, then per field: unsigned varint tag, unsigned varint size, `size` bytes.
// Tags are written in ascending order. A decoder keeps tags it does not know as raw bytes so a message
// can be forwarded or re-encoded without losing them; an unknown tag is never an error.
import { ProtocolError } from './protocol-error.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface TaggedField {
  tag: number;
  data: Buffer;
}

/** Skips a tagged-field section, keeping every field as raw bytes (used where no tag is known). */
export function readUnknownTaggedFields(r: Reader): TaggedField[] | undefined {
  const count = r.unsignedVarint();
  let fields: TaggedField[] | undefined;
  for (let i = 0; i < count; i++) {
    const tag = r.unsignedVarint();
    const size = r.unsignedVarint();
    (fields ??= []).push({ tag, data: r.raw(size) });
  }
  return fields;
}

/** Writes a tagged-field section. `fields` may be unsorted; it is sorted in place by tag. */
export function writeTaggedFields(w: Writer, fields: TaggedField[] | undefined): void {
  if (fields === undefined || fields.length === 0) {
    w.int8(0);
    return;
  }
  if (fields.length > 1) fields.sort(byTag);
  w.unsignedVarint(fields.length);
  let previous = -1;
  for (const field of fields) {
    if (field.tag <= previous) throw new ProtocolError(`duplicate tagged field ${field.tag}`);
    previous = field.tag;
    w.unsignedVarint(field.tag);
    w.unsignedVarint(field.data.length);
    w.raw(field.data);
  }
}

function byTag(a: TaggedField, b: TaggedField): number {
  return a.tag - b.tag;
}
