import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FetchPurgatory } from '../../src/server/fetch-purgatory.js';

/** 'done' if the promise has settled by the next macrotask, else 'pending'. */
async function state(promise: Promise<void>): Promise<'done' | 'pending'> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done ? 'done' : 'pending';
}

test('a waiter completes once appends to its partitions reach its byte count', async () => {
  const purgatory = new FetchPurgatory();
  const waiting = purgatory.wait([1, 2], 100, 60_000);
  assert.equal(purgatory.size, 1);
  purgatory.notify(3, 500);
  assert.equal(await state(waiting), 'pending', 'another partition does not count');
  purgatory.notify(1, 60);
  assert.equal(await state(waiting), 'pending', '60 of 100 bytes');
  purgatory.notify(2, 40);
  assert.equal(await state(waiting), 'done');
  assert.equal(purgatory.size, 0);
});

test('a waiter completes when its time runs out', async () => {
  const purgatory = new FetchPurgatory();
  await purgatory.wait([1], 1, 5);
  assert.equal(purgatory.size, 0);
});

test('an append between mark() and wait() completes the wait at once', async () => {
  const purgatory = new FetchPurgatory();
  purgatory.notify(1, 10);
  const since = purgatory.mark();
  purgatory.notify(2, 10); // lands while the fetch is reading
  assert.equal(await state(purgatory.wait([1, 2], 1, 60_000, since)), 'done');
  assert.equal(purgatory.size, 0, 'nothing was parked');
});

test('appends before the mark, or to other partitions, do not complete a wait', async () => {
  const purgatory = new FetchPurgatory();
  purgatory.notify(1, 10);
  const since = purgatory.mark();
  purgatory.notify(3, 10);
  const waiting = purgatory.wait([1, 2], 1, 60_000, since);
  assert.equal(await state(waiting), 'pending');
  purgatory.notify(2, 1);
  assert.equal(await state(waiting), 'done');
});

test('completeAll releases every waiter', async () => {
  const purgatory = new FetchPurgatory();
  const a = purgatory.wait([1], 1, 60_000);
  const b = purgatory.wait([1, 2], 1, 60_000);
  assert.equal(purgatory.size, 2);
  purgatory.completeAll();
  assert.deepEqual([await state(a), await state(b)], ['done', 'done']);
  assert.equal(purgatory.size, 0);
});

test('bytes appended between mark() and wait() count toward min.bytes', async () => {
  const purgatory = new FetchPurgatory();
  const since = purgatory.mark();
  purgatory.notify(1, 30);
  purgatory.notify(2, 30);
  const waiting = purgatory.wait([1, 2], 100, 60_000, since);
  assert.equal(await state(waiting), 'pending', '60 of 100 bytes before parking');
  purgatory.notify(2, 40);
  assert.equal(await state(waiting), 'done');
});

test('a mark older than the remembered appends lets the fetch read again', async () => {
  const purgatory = new FetchPurgatory();
  const since = purgatory.mark();
  for (let i = 0; i < 5000; i++) purgatory.notify(7, 1);
  assert.equal(await state(purgatory.wait([1], 1_000_000, 60_000, since)), 'done');
  // A fresh mark with nothing since parks as usual.
  const waiting = purgatory.wait([1], 1, 60_000, purgatory.mark());
  assert.equal(await state(waiting), 'pending');
  purgatory.completeAll();
});
