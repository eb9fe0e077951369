// Node.js runtime per pod: is the process healthy underneath the requests?
// Event-loop utilization and delay (the first things to saturate in a
// Node.js service), GC, heap spaces, RSS, handles, CPU, worker threads.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { periscopeDashboard } from './lib/dashboard.js';
import { PromQueryFormat, query, redFrom, stat, table, timeseries } from './lib/panels.js';
import { PODS, quantile, sel, sumRate } from './lib/promql.js';
import * as v from './lib/variables.js';

const P = sel(PODS);

export function nodejsRuntime() {
  return (
    periscopeDashboard({
      uid: 'periscope-nodejs-runtime',
      title: 'Periscope / Node.js runtime',
      description:
        'Per pod: event-loop utilization and delay, garbage collection, heap spaces, RSS, handles, CPU, worker pools.',
      variables: [v.datasource(), v.job(), v.namespace(), v.pod()],
    })
      // ----------------------------------------------------------- Event loop
      .withRow(new RowBuilder('Event loop'))
      .withPanel(
        timeseries({
          title: 'Event-loop utilization by pod',
          description:
            'Share of time the event loop was busy: rate(nodejs_eventloop_active_seconds_total). The HPA scales on it; PeriscopeEventLoopSaturated fires above 0.9 for 15 minutes. Past ~0.9 every request waits behind the others.',
          queries: [query(sumRate('nodejs_eventloop_active_seconds_total', PODS, ['pod']), '{{pod}}')],
          unit: 'percentunit',
          min: 0,
          max: 1,
          thresholds: redFrom(0.9),
        }),
      )
      .withPanel(
        timeseries({
          title: 'Event-loop delay p50 / p90 / p99 by pod',
          description:
            'How late timers fire (perf_hooks.monitorEventLoopDelay): the queueing delay a request sees before its callback runs. Spikes come from synchronous work: large JSON, regexes, crypto, long GC pauses.',
          queries: [
            query(`max by (pod) (nodejs_eventloop_lag_p99_seconds${P})`, '{{pod}} p99'),
            query(`max by (pod) (nodejs_eventloop_lag_p90_seconds${P})`, '{{pod}} p90'),
            query(`max by (pod) (nodejs_eventloop_lag_p50_seconds${P})`, '{{pod}} p50'),
          ],
          unit: 's',
          min: 0,
        }),
      )
      .withPanel(
        stat({
          title: 'Event-loop utilization now',
          description: 'The last 10 s of event-loop utilization per pod (gauge nodejs_eventloop_utilization_ratio).',
          queries: [query(`max by (pod) (nodejs_eventloop_utilization_ratio${P})`, '{{pod}}')],
          unit: 'percentunit',
          min: 0,
          max: 1,
          span: 12,
          thresholds: [
            { value: null, color: 'green' },
            { value: 0.7, color: 'yellow' },
            { value: 0.9, color: 'red' },
          ],
        }),
      )
      .withPanel(
        stat({
          title: 'Event-loop delay max',
          description: 'Worst delay seen in the last sampling window per pod (nodejs_eventloop_lag_max_seconds).',
          queries: [query(`max by (pod) (nodejs_eventloop_lag_max_seconds${P})`, '{{pod}}')],
          unit: 's',
          span: 12,
          thresholds: [
            { value: null, color: 'green' },
            { value: 0.1, color: 'yellow' },
            { value: 1, color: 'red' },
          ],
        }),
      )

      // ---------------------------------------------------------------- GC
      .withRow(new RowBuilder('Garbage collection'))
      .withPanel(
        timeseries({
          title: 'GC time by kind',
          description:
            'Share of wall time spent in garbage collection, by kind (minor = scavenge of the young generation, major = mark-sweep-compact, incremental, weakcb). Major GC climbing with heap usage means the heap is near its limit.',
          queries: [query(sumRate('nodejs_gc_duration_seconds_sum', PODS, ['pod', 'kind']), '{{pod}} {{kind}}')],
          unit: 'percentunit',
          min: 0,
          span: 8,
          stack: true,
        }),
      )
      .withPanel(
        timeseries({
          title: 'GC runs by kind',
          description: 'Collections per second by kind.',
          queries: [query(sumRate('nodejs_gc_duration_seconds_count', PODS, ['pod', 'kind']), '{{pod}} {{kind}}')],
          unit: 'ops',
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'GC pause p99 by kind',
          description: 'Tail GC pause: the event loop is stopped for this long.',
          queries: [query(quantile(0.99, 'nodejs_gc_duration_seconds', PODS, ['kind']), '{{kind}}')],
          unit: 's',
          min: 0,
          span: 8,
        }),
      )

      // ------------------------------------------------------------- Memory
      .withRow(new RowBuilder('Memory'))
      .withPanel(
        timeseries({
          title: 'Heap used by space',
          description:
            'V8 heap spaces per pod: new_space (young objects), old_space (survivors: steady growth here is a leak), code_space, large_object_space (big strings and buffers), ...',
          queries: [query(`max by (pod, space) (nodejs_heap_space_size_used_bytes${P})`, '{{pod}} {{space}}')],
          unit: 'bytes',
          min: 0,
          stack: true,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Heap used vs total, and space still available',
          description:
            'Heap used and reserved (total) per pod, and the room V8 reports left across spaces. When available approaches 0, GC runs constantly and then the process dies of "heap out of memory".',
          queries: [
            query(`max by (pod) (nodejs_heap_size_used_bytes${P})`, '{{pod}} used'),
            query(`max by (pod) (nodejs_heap_size_total_bytes${P})`, '{{pod}} total'),
            query(`sum by (pod) (nodejs_heap_space_size_available_bytes${P})`, '{{pod}} available'),
          ],
          unit: 'bytes',
          min: 0,
        }),
      )
      .withPanel(
        timeseries({
          title: 'RSS and external memory by pod',
          description:
            'Resident set size (what the container memory limit counts, and the OOM killer acts on) and memory held outside the V8 heap (Buffers, native addons).',
          queries: [
            query(`max by (pod) (process_resident_memory_bytes${P})`, '{{pod}} rss'),
            query(`max by (pod) (nodejs_external_memory_bytes${P})`, '{{pod}} external'),
          ],
          unit: 'bytes',
          min: 0,
        }),
      )

      // ------------------------------------------------------ CPU and handles
      .withRow(new RowBuilder('CPU, handles, file descriptors'))
      .withPanel(
        timeseries({
          title: 'CPU by pod',
          description:
            'CPU cores used by the process, split into user and system time. A Node.js process uses one core for JavaScript plus some for GC and libuv threads.',
          queries: [
            query(sumRate('process_cpu_user_seconds_total', PODS, ['pod']), '{{pod}} user'),
            query(sumRate('process_cpu_system_seconds_total', PODS, ['pod']), '{{pod}} system'),
          ],
          unit: 'short',
          min: 0,
          stack: true,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Active resources by type',
          description:
            'Async resources keeping the event loop alive (process.getActiveResourcesInfo(): sockets, timers, ...), summed over the selected pods. Sockets growing without traffic growing is a connection leak.',
          queries: [query(`sum by (type) (nodejs_active_resources${P})`, '{{type}}')],
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Open file descriptors by pod',
          description: 'Open descriptors (sockets, files) against the process limit.',
          queries: [
            query(`max by (pod) (process_open_fds${P})`, '{{pod}} open'),
            query(`max by (pod) (process_max_fds${P})`, '{{pod}} limit'),
          ],
          min: 0,
          span: 8,
        }),
      )

      // ------------------------------------------------------- Worker threads
      .withRow(new RowBuilder('Worker pools (CPU-bound work off the event loop)'))
      .withPanel(
        timeseries({
          title: 'Worker pool utilization',
          description: 'Share of worker-thread capacity in use, per pool and pod.',
          queries: [query(`max by (pod, pool) (worker_pool_utilization_ratio${P})`, '{{pod}} {{pool}}')],
          unit: 'percentunit',
          min: 0,
          max: 1,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Worker pool queue',
          description:
            'Tasks waiting for a free worker. A queue that does not drain means the pool is too small for the load.',
          queries: [query(`max by (pod, pool) (worker_pool_queue_size${P})`, '{{pod}} {{pool}}')],
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Worker pool tasks by result',
          description: 'Tasks per second: completed, failed, rejected (queue full).',
          queries: [query(sumRate('worker_pool_tasks_total', PODS, ['pool', 'result']), '{{pool}} {{result}}')],
          unit: 'ops',
          min: 0,
          span: 8,
        }),
      )

      // -------------------------------------------------------------- Process
      .withRow(new RowBuilder('Process'))
      .withPanel(
        stat({
          title: 'Uptime by pod',
          description: 'Time since each process started. A pod with a much shorter uptime than its siblings restarted.',
          queries: [query(`time() - max by (pod) (process_start_time_seconds${P})`, '{{pod}}')],
          unit: 's',
          span: 12,
          height: 6,
        }),
      )
      .withPanel(
        table({
          title: 'Node.js version by pod',
          description: 'The runtime each pod runs (the image ships Node.js 24).',
          queries: [
            query(`max by (pod, version) (nodejs_version_info${P})`, '', {
              instant: true,
              format: PromQueryFormat.Table,
            }),
          ],
        }),
      )
  );
}
