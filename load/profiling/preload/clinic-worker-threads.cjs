// Preloaded into the service when it runs under clinic.js (`node -r this`).
//
// clinic injects its samplers with NODE_OPTIONS="-r ...", and Node runs those
// preloads in every worker thread too (the piscina pool behind POST /api/work
// starts them when work arrives). clinic was written before worker threads:
// each thread's sampler names its data file after process.pid, which the
// threads share, so
//   - doctor: the worker's sampler truncates and interleaves the main
//     thread's data file ("Decoded message is not valid" at analysis);
//   - heapprofiler: the worker also opens a stop channel and reports it last,
//     so clinic's stop reaches the worker, never the main thread, and the
//     run hangs.
// This runs on the main thread after clinic's own preload (whose file names
// are already fixed) and before the service creates any worker; workers get
// a copy of process.env when they are created, so they see the values below:
// their data goes to separate files, and they open no stop channel. The main
// thread's profile is what the report shows.
//
// heapprofiler also reports every port the service opens to clinic, one
// connection each, and clinic stops listening after the first two; the third
// (the service opens two servers, the sampler a third) then fails with
// ECONNREFUSED on a socket without an error handler, an uncaught exception
// that ends the service ("exited before the load finished", now and then).
// Its preload took `createConnection` before this file ran, so the guard is on
// Socket.prototype.connect: connections to clinic's port ignore their errors.
'use strict';
const { isMainThread } = require('node:worker_threads');

if (isMainThread) {
  const workers = `${process.pid}-worker-threads`;
  process.env.NODE_CLINIC_DOCTOR_NAME = workers;
  process.env.NODE_CLINIC_BUBBLEPROF_NAME = workers;
  process.env.HEAP_PROFILER_NAME = workers;
  process.env.HEAP_PROFILER_USE_IPC = 'false';

  const clinicPort = Number(process.env.CLINIC_HEAP_PROFILER_PORT);
  if (clinicPort > 0) {
    const { Socket } = require('node:net');
    const connect = Socket.prototype.connect;
    Socket.prototype.connect = function (...args) {
      // net.createConnection passes [options, callback] as one normalized array.
      const first = Array.isArray(args[0]) ? args[0][0] : args[0];
      const port = first !== null && typeof first === 'object' ? first.port : first;
      if (Number(port) === clinicPort) this.on('error', () => {});
      return connect.apply(this, args);
    };
  }
}
