// POSIX shell quoting, for the one command string the profilers take
// (--on-port runs through `sh -c`).

export function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
