// Makes sure the binaries the bench needs exist and are current: the host release addon
// (rebuilt with `npm run build` only when a Rust source is newer than it) and the two cargo
// examples (cargo decides what is stale by itself, a no-op in well under a second).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const newest = (paths) => Math.max(...paths.filter(existsSync).map((p) => statSync(p).mtimeMs));

function addonPath(root) {
  const name = readdirSync(root).find((f) => /^connector-twilio-sms-native\..*\.node$/.test(f) && f.includes(process.platform));
  return name && join(root, name);
}

export function ensureBuilt(root) {
  const addon = addonPath(root);
  const src = join(root, 'src');
  const inputs = [...readdirSync(src).map((f) => join(src, f)), ...['Cargo.toml', 'Cargo.lock', 'build.rs'].map((f) => join(root, f))];
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (!addon || statSync(addon).mtimeMs < newest(inputs)) {
    console.error(`bench: ${addon ? 'native addon is older than its sources' : 'no native addon'}; npm run build`);
    run('npm', ['run', 'build']);
  }
  run('cargo', ['build', '--release', '--quiet', '--example', 'bench_server', '--example', 'bench_ceiling']);
  const examples = join(root, 'target', 'release', 'examples');
  return { server: join(examples, 'bench_server'), ceiling: join(examples, 'bench_ceiling') };
}
