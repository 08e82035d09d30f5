/** Prints `lines`, then waits for Ctrl-C or SIGTERM. */
export async function printUntilStopped(lines: string[]): Promise<void> {
  // Listen before printing: a script may signal as soon as it reads the output.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  await stopped;
}
