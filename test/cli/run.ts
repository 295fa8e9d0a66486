import { main } from '../../cli/main.js';

export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/** `rescoin …args`, in-process from the sources (never a build that may be stale), its output captured. */
export async function rescoin(...args: string[]): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
}

/** `rescoin …args --json`, parsed; a failure throws with the command's stderr. */
export async function rescoinJson(...args: string[]): Promise<ReturnType<typeof JSON.parse>> {
  const r = await rescoin(...args, '--json');
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
