// What can stop a run, by whose move it is: the caller's (UsageError: bad
// option or input), the machine's (LimitError: not enough open files or
// ports for the connections asked), or the run's own (RunError: the target is
// unreachable, the generator failed). The CLI maps them to exit codes 2, 3, 3.

export class UsageError extends Error {
  override name = 'UsageError';
}

export class LimitError extends Error {
  override name = 'LimitError';
}

export class RunError extends Error {
  override name = 'RunError';
}
