// Completes package-lock.json with opencode's per-platform binary packages that the registry
// this project installs from does not serve (it has only the linux-x64 ones). Without these
// entries `npm ci` refuses the lockfile as out of sync with opencode-ai's optionalDependencies;
// with them it installs the binary for the machine's own platform and skips the rest.
// Run after changing dependencies: `npm run lock`.

import fs from 'node:fs';

const path = new URL('./package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(path, 'utf8'));
const pkgs = lock.packages;
const wanted = pkgs['node_modules/opencode-ai']?.optionalDependencies ?? {};
const osName = { darwin: 'darwin', linux: 'linux', windows: 'win32' };
const added = [];
for (const [name, version] of Object.entries(wanted)) {
  const key = `node_modules/${name}`;
  if (pkgs[key]) continue;
  const [, os, cpu, ...rest] = name.split('-'); // opencode-<os>-<cpu>[-baseline][-musl]
  pkgs[key] = { version, cpu: [cpu], ...(rest.includes('musl') ? { libc: ['musl'] } : {}), optional: true, os: [osName[os]] };
  added.push(name);
}
const { '': root, ...rest } = pkgs;
lock.packages = { '': root, ...Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
fs.writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(added.length ? `added to the lockfile: ${added.join(', ')}` : 'lockfile already complete');
