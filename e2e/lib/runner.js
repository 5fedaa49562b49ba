// A tiny sequential test runner: tests run one after another (they share the mock upstreams),
// each with a time limit; the output ends with the line `N passed, N failed`.

import { inspect } from 'node:util';

export class Runner {
  constructor({ filter } = {}) {
    this.tests = [];
    this.filter = filter ? new RegExp(filter) : null;
  }

  // test registers fn under name. opts.timeout is in milliseconds (default 30 s).
  test(name, fn, opts = {}) {
    if (this.tests.some((t) => t.name === name)) throw new Error(`duplicate test name: ${name}`);
    this.tests.push({ name, fn, timeout: opts.timeout ?? 30_000 });
  }

  async run() {
    let passed = 0;
    let failed = 0;
    const failures = [];
    const selected = this.tests.filter((t) => !this.filter || this.filter.test(t.name));
    for (const t of selected) {
      const started = Date.now();
      let timer;
      try {
        await Promise.race([
          Promise.resolve().then(() => t.fn()),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${t.timeout} ms`)), t.timeout);
          }),
        ]);
        passed++;
        console.log(`ok    ${t.name} (${Date.now() - started} ms)`);
      } catch (err) {
        failed++;
        failures.push(t.name);
        console.log(`FAIL  ${t.name} (${Date.now() - started} ms)`);
        console.log(indent(err instanceof Error ? (err.stack ?? err.message) : inspect(err)));
      } finally {
        clearTimeout(timer);
      }
    }
    if (failures.length) {
      console.log('\nfailed:');
      for (const f of failures) console.log(`  ${f}`);
    }
    return { passed, failed };
  }
}

function indent(s) {
  return s
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}
