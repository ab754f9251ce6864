#!/usr/bin/env node
/** The `tandem` executable: runs the command line (./run.ts) and exits with its code. */
import { createInterface } from 'node:readline/promises';
import { runCli } from './run';

// A question needs someone at a terminal to answer it; piped input never picks a record.
const interactive = process.stdin.isTTY && process.stderr.isTTY;
const ask = async (question: string) => {
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await lines.question(question);
  } finally {
    lines.close();
  }
};

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  ...(interactive && { ask }),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`tandem: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
