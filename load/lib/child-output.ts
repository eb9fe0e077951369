// Waits for a child process to exit and hands back its exit code and
// everything it printed: what the CLI tests assert on.
import type { ChildProcess } from 'node:child_process';

export interface ChildOutput {
  code: number | null;
  out: string;
  err: string;
}

export function childOutput(child: ChildProcess): Promise<ChildOutput> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}
