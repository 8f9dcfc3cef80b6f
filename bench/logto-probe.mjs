// Preload for Logto core in `npm run bench -- --logto` (`node --import <this file> .`): on
// SIGUSR2 it writes core's own view of its memory (process.memoryUsage() and V8's heap
// statistics) to the file LOGTO_BENCH_PROBE names, so the bench can split core's resident
// memory into V8's heap and the rest without an inspector. When `<file>.gc` exists, it runs a
// full garbage collection first (core then runs with --expose-gc; nothing else calls it).
// Core does nothing else differently: no timers, no listeners besides this signal.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const file = process.env.LOGTO_BENCH_PROBE;
if (file) {
  process.on('SIGUSR2', () => {
    if (existsSync(`${file}.gc`) && typeof globalThis.gc === 'function') globalThis.gc();
    const heap = v8.getHeapStatistics();
    const figures = {
      ...process.memoryUsage(),
      // What V8's heap keeps resident (its pages actually touched), the figure to take off RSS.
      heapPhysical: heap.total_physical_size,
      // V8's own malloc'ed bookkeeping, outside the heap pages.
      v8Malloced: heap.malloced_memory,
      spaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size])),
    };
    // Written whole and renamed, so the bench never reads half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify(figures));
    renameSync(`${file}.tmp`, file);
  });
}
