// `npm start`: the tray app where Electron can run (its binary is installed and there is a
// display), the headless gate everywhere else, so one command starts the product on any machine.
// Arguments after `--` go to whichever starts: `npm start -- --port 9000`.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

/** The Electron binary's path; the `electron` package throws when its binary was never downloaded. */
function electronBinary() {
  try {
    return createRequire(import.meta.url)('electron');
  } catch {
    return undefined;
  }
}

const electron = hasDisplay ? electronBinary() : undefined;
const [command, commandArgs] = electron ? [electron, ['.', ...args]] : [process.execPath, ['dist/cli/ollama-gate.js', 'serve', ...args]];
if (!electron) console.log(hasDisplay ? 'Electron is not installed here: starting the headless gate.' : 'No display: starting the headless gate.');
const child = spawn(command, commandArgs, { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
