// waitForReady: polls a started child's /ready on its loopback admin port until it answers 200, or fails with the child's output.
import { get } from 'node:http';
import { LOOPBACK } from '../loopback-port.js';
import type { SupervisedProcess } from '../process-supervisor.js';

function readyStatus(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = get({ host: LOOPBACK, port, path: '/ready', agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.setTimeout(1_000, () => request.destroy());
    request.once('error', () => resolve(undefined));
  });
}

/**
 * Resolves once GET /ready on 127.0.0.1:`adminPort` answers 200 (a proxy: it holds its certificate; the control
 * plane: it serves and has an issuer). Rejects, with the end of the child's output, if the child exits first or
 * `timeoutMs` passes.
 */
export async function waitForReady(adminPort: number, child: SupervisedProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: number | undefined;
  while (performance.now() < deadline) {
    if (!child.isRunning) throw new Error(`${child.label} exited before it was ready: ${outputOf(child)}`);
    last = await readyStatus(adminPort);
    if (last === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const answer = last === undefined ? 'no answer' : `status ${last}`;
  throw new Error(`${child.label} was not ready within ${timeoutMs} ms (/ready: ${answer}): ${outputOf(child)}`);
}

function outputOf(child: SupervisedProcess): string {
  const { stdout, stderr } = child.output;
  const text = `${stderr}\n${stdout}`.trim();
  return text === '' ? `(no output; command: ${child.commandLine})` : text.slice(-2_000);
}
