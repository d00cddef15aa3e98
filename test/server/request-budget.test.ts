import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestBudget, type BudgetWaiter } from '../../src/server/request-budget.js';

function waiter(log: string[], name: string): BudgetWaiter {
  return { budgetAvailable: () => log.push(name) };
}

test('the request count bound admits up to queued.max.requests and wakes waiters on release', () => {
  const budget = new RequestBudget(2);
  const woken: string[] = [];
  const a = waiter(woken, 'a');
  const b = waiter(woken, 'b');
  assert.equal(budget.acquire(10, a), true);
  assert.equal(budget.acquire(10, a), true);
  assert.equal(budget.acquire(10, b), false);
  assert.equal(budget.acquire(10, a), false);
  assert.deepEqual([budget.requests, budget.bytes], [2, 20]);
  budget.release(10);
  assert.deepEqual(woken, ['b', 'a'], 'waiters are woken in the order they started waiting');
  assert.equal(budget.acquire(5, b), true);
  assert.deepEqual([budget.requests, budget.bytes], [2, 15]);
  budget.release(10);
  assert.deepEqual(woken, ['b', 'a'], 'nobody was waiting any more');
});

test('the byte bound holds, but a request larger than it is admitted when nothing else is queued', () => {
  const budget = new RequestBudget(100, 1000);
  const woken: string[] = [];
  const w = waiter(woken, 'w');
  assert.equal(budget.acquire(5000, w), true, 'alone, an oversized request may proceed');
  assert.equal(budget.acquire(1, w), false, 'but nothing joins it');
  budget.release(5000);
  assert.deepEqual(woken, ['w']);
  assert.equal(budget.acquire(600, w), true);
  assert.equal(budget.acquire(400, w), true);
  assert.equal(budget.acquire(1, w), false);
  budget.forget(w);
  budget.release(400);
  assert.deepEqual(woken, ['w'], 'a forgotten waiter is not woken');
  assert.equal(new RequestBudget(1, -1).acquire(1e12, w), true, '-1 means no byte bound');
  assert.throws(() => new RequestBudget(0), RangeError);
});
