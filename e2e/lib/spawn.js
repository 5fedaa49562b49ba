// Runs a command-line agent to completion with stdin closed (as in CI), collecting its output,
// and kills it when it outlives its time limit.

import { spawn } from 'node:child_process';

// runProcess runs file with args in cwd and env and resolves with its exit code and output.
export function runProcess(file, args, { cwd, env, timeout = 90_000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} timed out after ${timeout} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
