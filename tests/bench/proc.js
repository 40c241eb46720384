'use strict';
// proc.js - what the benchmarks read of a process and of their samples: its peak memory and CPU
// time from /proc, and percentiles.

const fs = require('node:fs');

const TICK_MS = 1000 / 100; // USER_HZ: /proc/PID/stat counts CPU in ticks of 10 ms

// The peak resident set of pid so far (VmHWM), in KiB.
function peakKiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

// The CPU time of pid and all its threads so far, user and system, in ms (/proc/PID/stat).
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after the name, which may hold ") "
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime
}

// The p-th percentile of sorted (ascending).
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

module.exports = { TICK_MS, peakKiB, cpuMs, percentile };
