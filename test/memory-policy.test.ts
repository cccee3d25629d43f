/**
 * Host-side memory and polling policies, driven without a device: collection hints for memory the
 * collector cannot see (src/gc-hints.ts), the WebGPU pool's order of reuse (pool.ts), the pacing
 * of Dawn's event polling in Node (dawn-pacing.ts), and the finalizer's tickets (storage.ts).
 */
import { promisify } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import { cpuBackend } from '../src/backends/cpu/index.js';
import { HeldBytes } from '../src/gc-hints.js';
import { BufferPool } from '../src/backends/webgpu/pool.js';
import { isDawnTick, NAP_MS, NAP_UNTIL_MS, pacedSetImmediate, PACED_DELAY_MS, SPIN_MS } from '../src/backends/webgpu/dawn-pacing.js';

describe('HeldBytes (collection hints)', () => {
  it('hints once each time the bytes made and not returned have grown by the step, counting earlier bytes only', () => {
    let hints = 0;
    const h = new HeldBytes(100, () => hints++);
    h.made(100); // the first 100 bytes are not garbage yet: no hint for them
    expect(hints).toBe(0);
    h.made(10); // 100 held before this one: one hint
    expect(hints).toBe(1);
    for (let i = 0; i < 9; i++) h.made(10); // 200 held now, and the next hint is at 200
    expect(hints).toBe(1);
    h.made(10);
    expect(hints).toBe(2);
  });

  it('returned bytes move the next hint down, never below what is held', () => {
    let hints = 0;
    const h = new HeldBytes(100, () => hints++);
    h.made(150);
    h.returned(150); // nothing held: the next hint is 100 bytes away again
    h.made(60);
    h.made(60); // 60 held before it: no hint
    expect(hints).toBe(0);
    h.made(1); // 120 held: hint
    expect(hints).toBe(1);
    h.returned(1000); // more than was counted (a handle made before the counter): held stays at 0
    h.made(99);
    h.made(1);
    expect(hints).toBe(1);
  });
});

/** A device that only makes buffers (all BufferPool needs). */
function fakeDevice(): GPUDevice {
  let n = 0;
  return { createBuffer: (d: GPUBufferDescriptor) => ({ size: d.size, label: `b${n++}`, destroy() {} }) } as unknown as GPUDevice;
}

describe('BufferPool collection hints', () => {
  it('counts memory when it is bound and when a bound handle comes back, once', () => {
    let hints = 0;
    const held = new HeldBytes(100, () => hints++);
    const pool = new BufferPool(fakeDevice(), 0, 1 << 30, {}, 't', held);
    const a = pool.acquire(64), b = pool.acquire(64), unbound = pool.acquire(64);
    expect(held.bytes).toBe(0); // handles without memory hold nothing
    a.bind();
    a.bind(); // bound already
    b.bind();
    expect(held.bytes).toBe(128);
    expect(hints).toBe(0);
    pool.release(unbound); // never bound: nothing comes back
    expect(held.bytes).toBe(128);
    pool.acquire(64).bind(); // 128 held before it: a hint
    expect(hints).toBe(1);
    pool.release(a);
    pool.release(a); // a second release is no release
    expect(held.bytes).toBe(128);
    pool.release(b);
    expect(held.bytes).toBe(64);
  });
});

describe('BufferPool order of reuse', () => {
  it('hands out the oldest free buffer of a bucket, whatever order buffers came back in', () => {
    const pool = new BufferPool(fakeDevice(), 0, 1 << 30, {}, 't');
    const first = Array.from({ length: 6 }, () => pool.acquire(1000));
    const ids = first.map((g) => g.bind().id);
    for (const i of [4, 1, 5, 0, 3, 2]) pool.release(first[i]!);
    const again = Array.from({ length: 6 }, () => pool.acquire(1000).bind().id);
    expect(again).toEqual(ids);
    expect(pool.created).toBe(6);
  });

  it('after each round of releases in a new order, a round of binds takes the buffers in the same order', () => {
    const pool = new BufferPool(fakeDevice(), 0, 1 << 30, {}, 't');
    let round = Array.from({ length: 5 }, () => pool.acquire(4096));
    const ids = round.map((g) => g.bind().id);
    for (const order of [[3, 0, 4, 1, 2], [2, 4, 0, 3, 1], [1, 3, 2, 0, 4]]) {
      for (const i of order) pool.release(round[i]!);
      round = Array.from({ length: 5 }, () => pool.acquire(4096));
      expect(round.map((g) => g.bind().id)).toEqual(ids);
    }
    expect(pool.created).toBe(5);
  });

  it('interleaved releases and binds always take the lowest id free', () => {
    const pool = new BufferPool(fakeDevice(), 0, 1 << 30, {}, 't');
    const gs = Array.from({ length: 8 }, () => pool.acquire(64));
    const id = gs.map((g) => g.bind().id);
    for (const i of [7, 2, 5]) pool.release(gs[i]!);
    expect(pool.acquire(64).bind().id).toBe(id[2]);
    pool.release(gs[0]!);
    expect(pool.acquire(64).bind().id).toBe(id[0]);
    expect(pool.acquire(64).bind().id).toBe(id[5]);
    expect(pool.acquire(64).bind().id).toBe(id[7]);
    expect(pool.stats.pooledBuffers).toBe(0);
    expect(pool.created).toBe(8);
  });

  it('binds the free buffer picked for it, and the rest still go lowest id first', () => {
    const pool = new BufferPool(fakeDevice(), 0, 1 << 30, {}, 't');
    const gs = Array.from({ length: 9 }, () => pool.acquire(64));
    const mems = gs.map((g) => g.bind());
    for (const i of [8, 3, 6, 0, 5, 1, 7]) pool.release(gs[i]!);
    expect(pool.stats.pooledBuffers).toBe(7);
    // picked: one deep in the heap, then the lowest, then a buffer that is not free (taken lowest instead)
    expect(pool.acquire(64).bind(mems[6]!)).toBe(mems[6]);
    expect(pool.acquire(64).bind(mems[0]!)).toBe(mems[0]);
    expect(pool.acquire(64).bind(mems[2]!)).toBe(mems[1]);
    // a buffer of another bucket is not taken for this one
    const big = pool.acquire(4096);
    const bigMem = big.bind();
    pool.release(big);
    expect(pool.acquire(64).bind(bigMem)).toBe(mems[3]);
    expect([5, 7, 8].map(() => pool.acquire(64).bind().id)).toEqual([mems[5]!.id, mems[7]!.id, mems[8]!.id]);
    expect(pool.stats.pooledBuffers).toBe(1); // the 4096-byte one
    expect(pool.created).toBe(10);
    // destroyed free memory (emptyCache) is never picked
    const h = pool.acquire(4096);
    const m = h.bind(); // the 4096-byte buffer released above
    pool.release(h);
    pool.trim();
    expect(pool.stats.pooledBuffers).toBe(0);
    expect(pool.acquire(4096).bind(m)).not.toBe(m);
    expect(pool.created).toBe(11);
  });

  it('keeps its free memory ordered through picks and releases in any order', () => {
    const pool = new BufferPool(fakeDevice(), 0, 1 << 30, {}, 't');
    const all = Array.from({ length: 40 }, () => pool.acquire(256));
    const mems = all.map((g) => g.bind());
    const held = [...all];
    const free = new Set<number>();
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 300; round++) {
      if (held.length && (free.size === 0 || rand(2) === 0)) {
        const g = held.splice(rand(held.length), 1)[0]!;
        free.add(g.mem!.id);
        pool.release(g);
      } else {
        // half the binds pick a free buffer (or one that is not free), half take the lowest
        const pick = rand(2) === 0 ? mems[rand(mems.length)] : undefined;
        const g = pool.acquire(256);
        const want = pick && free.has(pick.id) ? pick.id : Math.min(...free);
        expect(g.bind(pick).id).toBe(want);
        free.delete(want);
        held.push(g);
      }
    }
    expect(pool.created).toBe(40);
    expect(pool.stats.pooledBuffers).toBe(free.size);
  });
});

describe('pacing of Dawn polling', () => {
  /** A fake event loop: immediates and timers queued, a clock moved by hand. */
  function fakeLoop() {
    let now = 0;
    const immediates: (() => void)[] = [];
    const timers: { at: number; cb: () => void }[] = [];
    const immediate = ((cb: (...a: unknown[]) => void, ...args: unknown[]) => {
      immediates.push(() => cb(...args));
      return 'immediate';
    }) as unknown as Parameters<typeof pacedSetImmediate>[0];
    const timeout = (cb: () => void, ms: number) => {
      timers.push({ at: now + ms, cb });
      return 'timer';
    };
    const naps: number[] = [];
    const sleep = (ms: number) => {
      naps.push(ms);
      now += ms;
    };
    const paced = pacedSetImmediate(immediate, timeout, () => now, sleep);
    return {
      paced, immediates, timers, naps,
      advance(ms: number) { now += ms; },
      runImmediate() { immediates.shift()!(); },
      runTimer() { const t = timers.shift()!; now = Math.max(now, t.at); t.cb(); },
    };
  }
  /** A Dawn tick stand-in: an anonymous native function (what Napi::Function::New makes). */
  const dawnTick = (f: () => void) => {
    const bound = f.bind(null); // a bound function is native, and named "bound f"; Dawn's has no name
    Object.defineProperty(bound, 'name', { value: '' });
    Object.defineProperty(bound, 'prototype', { value: {} });
    return bound;
  };

  it('recognizes only anonymous native functions as Dawn ticks', () => {
    expect(isDawnTick(dawnTick(() => {}))).toBe(true);
    expect(isDawnTick(() => {})).toBe(false); // arrow: no prototype
    expect(isDawnTick(function () {})).toBe(false); // anonymous, but JS source
    expect(isDawnTick((() => {}).bind(null))).toBe(false); // native, but named "bound "
    expect(isDawnTick(setTimeout)).toBe(false);
  });

  it('other callbacks go straight to setImmediate with their arguments', () => {
    const loop = fakeLoop();
    const got: unknown[] = [];
    expect(loop.paced((a: unknown, b: unknown) => got.push(a, b), 1, 2)).toBe('immediate');
    loop.advance(50);
    expect(loop.paced(function named() { got.push(3); })).toBe('immediate');
    loop.runImmediate();
    loop.runImmediate();
    expect(got).toEqual([1, 2, 3]);
    expect(loop.timers.length).toBe(0);
  });

  /** Dawn's ticking while something is pending: each tick moves the clock by `step` ms, then asks for the next. */
  function ticking(loop: ReturnType<typeof fakeLoop>, pending: number, step: number) {
    const seen = { ticks: 0 };
    const tick = () => {
      seen.ticks++;
      loop.advance(step);
      if (--pending > 0) loop.paced(dawnTick(tick));
    };
    loop.paced(dawnTick(tick)); // the wait starts
    return seen;
  }

  it('a wait polls at full speed for SPIN_MS, then each tick naps NAP_MS first', () => {
    const loop = fakeLoop();
    const seen = ticking(loop, 3, SPIN_MS);
    loop.runImmediate(); // tick 1; the wait is SPIN_MS old when it asks for tick 2
    expect(loop.naps).toEqual([]);
    loop.runImmediate(); // tick 2 after a nap
    expect(loop.naps).toEqual([NAP_MS]);
    loop.runImmediate(); // tick 3 after a nap: nothing pending after it
    expect(seen.ticks).toBe(3);
    expect(loop.naps).toEqual([NAP_MS, NAP_MS]);
    expect(loop.timers.length + loop.immediates.length).toBe(0);
  });

  it('a wait NAP_UNTIL_MS old ticks from a timer; a new wait spins again', () => {
    const loop = fakeLoop();
    const seen = ticking(loop, 2, NAP_UNTIL_MS);
    loop.runImmediate(); // tick 1, at full speed; the wait is NAP_UNTIL_MS old when it asks for tick 2
    expect(loop.immediates.length).toBe(0);
    expect(loop.timers.map((t) => t.at)).toEqual([NAP_UNTIL_MS + PACED_DELAY_MS]);
    loop.runTimer();
    expect(seen.ticks).toBe(2);
    expect(loop.naps).toEqual([]);
    expect(loop.timers.length + loop.immediates.length).toBe(0);
    // a later wait (asked for outside a tick) starts at full speed again
    loop.advance(100);
    const again = ticking(loop, 1, 0);
    expect(loop.immediates.length).toBe(1);
    loop.runImmediate();
    expect(again.ticks).toBe(1);
    expect(loop.naps).toEqual([]);
  });

  it('keeps what util.promisify reads from setImmediate', async () => {
    const paced = pacedSetImmediate(setImmediate as never, setTimeout as never, () => performance.now());
    expect(await promisify(paced as typeof setImmediate)('value')).toBe('value');
  });
});

describe('the finalizer (storage.ts tickets)', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;

  /** Collects, and gives finalizer callbacks their turns, until `done()` or 20 rounds. */
  async function collect(done: () => boolean): Promise<void> {
    for (let i = 0; i < 20 && !done(); i++) {
      gc();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('returns a buffer once: tensors disposed and then collected, and views collected without dispose()', async () => {
    const released = new Map<unknown, number>();
    const release = cpuBackend.release;
    cpuBackend.release = (b, dtype, n) => {
      released.set(b, (released.get(b) ?? 0) + 1);
      release.call(cpuBackend, b, dtype, n);
    };
    const count = (b: unknown) => released.get(b) ?? 0;
    try {
      // a tensor disposed while another shares its storage (detach(): no link back to it) waits
      // for that one, also once the disposed object is collected (its finalizer must not let go)
      // (tensors written from the host: no recipe shares their buffers with other tensors)
      let base: torch.Tensor | null = torch.tensor([0, 2, 4, 6, 8, 10]);
      let view: torch.Tensor | null = base.detach();
      const shared = base.storage.buf;
      base.dispose();
      base = null;
      await collect(() => false);
      expect(count(shared)).toBe(0);
      expect(await view.tolist()).toEqual([0, 2, 4, 6, 8, 10]);
      // a tensor disposed: its storage goes back at dispose(), and not again when it is collected
      let alone: torch.Tensor | null = torch.tensor([2, 2, 2, 2, 2]);
      const own = alone.storage.buf;
      alone.dispose();
      expect(count(own)).toBe(1);
      alone = null;
      // the detached tensor, never disposed, is collected: the shared buffer goes back, once
      view = null;
      await collect(() => count(shared) > 0);
      expect(view).toBeNull();
      expect(count(shared)).toBe(1);
      await collect(() => false);
      expect(count(shared)).toBe(1);
      expect(count(own)).toBe(1);
    } finally {
      cpuBackend.release = release;
    }
  });
});
