// A wall-clock limit per component call for the Node host.
//
// preview2-shim runs a guest's calls synchronously: while the guest waits on
// HTTP the main thread is blocked (Atomics.wait), so no timer of the main
// thread can fire, and the shim applies the first-byte timeout only after
// response headers arrive. The watchdog is a worker thread with its own event
// loop: the main thread writes a deadline into shared memory before each call
// and clears it after; past the deadline, the worker prints why on stderr and
// kills the process (SIGKILL: the blocked thread cannot be interrupted, and
// the instance is not reused after an overrun in any case).

import { Worker } from "node:worker_threads";

const WORKER = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const deadline = workerData.deadline;
setInterval(() => {
  const at = Number(Atomics.load(deadline, 0));
  if (at !== 0 && Date.now() > at) {
    writeSync(2, "error: " + workerData.what[Atomics.load(workerData.call, 0)] + " exceeded the wall-clock limit of " + workerData.ms + " ms; killing the host\\n");
    process.kill(process.pid, "SIGKILL");
  }
}, 20);
`;

const CALLS = ["describe", "configure", "sync", "provision"];

/** Starts the watchdog; `arm(call)` before a call, `disarm()` after. */
export function startWatchdog(ms) {
  const deadline = new BigInt64Array(new SharedArrayBuffer(8));
  const call = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER, { eval: true, workerData: { deadline, call, ms, what: CALLS } });
  worker.unref();
  return {
    arm(name) {
      Atomics.store(call, 0, Math.max(0, CALLS.indexOf(name)));
      Atomics.store(deadline, 0, BigInt(Date.now() + ms));
    },
    disarm() {
      Atomics.store(deadline, 0, 0n);
    },
  };
}
