import { describe, expect, it } from 'vitest';
import { cpuTimes } from './process.js';

describe('cpuTimes', () => {
  it("reads this process's user and system CPU time as Node counts them (to the 10 ms tick)", () => {
    // Spend some CPU first, so user time is well above zero and a wrong field would show.
    for (const end = process.cpuUsage().user + 200_000; process.cpuUsage().user < end;);
    const usage = process.cpuUsage();
    const times = cpuTimes(process.pid);
    expect(times.userMs).toBeGreaterThan(100);
    expect(Math.abs(times.userMs - usage.user / 1000)).toBeLessThan(30);
    expect(Math.abs(times.systemMs - usage.system / 1000)).toBeLessThan(30);
  });
});
