/**
 * Keeps Dawn's two start-up notices off the user's stderr.
 *
 * On Mesa's lavapipe every process that looks for a Dawn adapter used to print
 *   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
 * and the same for storage buffers. No requested limit causes them: Dawn clamps the *driver's*
 * reported limits while it enumerates adapters (NormalizeLimits in dawn/native/Limits.cpp), inside
 * the first `requestAdapter()` call, synchronously, before any device is asked for. Dawn writes its
 * log with fprintf straight to file descriptor 2, past `process.stderr`, and has no log-level switch.
 *
 * So that one call runs with fd 2 pointed at a temporary file; then fd 2 is restored and every line
 * except those two notices is written to stderr: other messages are delayed, never hidden.
 * `WGTORCH_DEBUG=1` skips all this and lets Dawn's output through as it comes.
 *
 * Node has no dup2(), so fd 2 is restored by reopening the original through /proc/self/fd (Linux
 * only), which is equivalent for a terminal, a pipe, or a file opened for appending. Anything else
 * (a file opened without O_APPEND, as `node app.js > log 2>&1` does, whose offset a reopened file
 * would not share; a socket; another OS) runs the call unfiltered.
 */

type Fs = typeof import('node:fs');

/** The notices dropped: exactly Dawn's wording, any numbers. */
const DAWN_NOTICE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

/** Lines of `text` without Dawn's limit notices. */
export function withoutDawnNotices(text: string): string {
  return text.split(/(?<=\n)/).filter((line) => !DAWN_NOTICE.test(line.trimEnd())).join('');
}

/** Runs `fn` (synchronous: Dawn logs inside the call) with Dawn's limit notices filtered out of fd 2. */
export function withDawnNoticesFiltered<T>(fn: () => T): T {
  const fs = process.env.WGTORCH_DEBUG === '1' ? undefined : nodeFs();
  const flags = fs && reopenFlags(fs);
  if (!fs || flags === null || flags === undefined) return fn();
  let saved: number;
  try {
    // A FIFO without a reader would block a plain open: O_NONBLOCK makes that ENXIO (then: unfiltered).
    saved = fs.openSync('/proc/self/fd/2', flags | fs.constants.O_NONBLOCK);
  } catch {
    return fn();
  }
  const tmp = `${(process.getBuiltinModule('node:os') as typeof import('node:os')).tmpdir()}/wgtorch-dawn-${process.pid}-${Date.now()}.log`;
  // NOTE: close() then open() takes the lowest free descriptor, 2; another thread opening a file
  // between the two calls (microseconds, once per process) would take it instead. Checked below.
  fs.closeSync(2);
  let captured: number;
  try {
    captured = fs.openSync(tmp, 'wx+');
  } catch {
    captured = -1;
  }
  if (captured !== 2) {
    if (captured >= 0) fs.closeSync(captured);
    restore(fs, saved, flags);
    return fn();
  }
  fs.unlinkSync(tmp); // the open descriptor keeps it readable; nothing is left behind
  try {
    return fn();
  } finally {
    const size = fs.fstatSync(2).size;
    const buf = Buffer.alloc(size);
    fs.readSync(2, buf, 0, size, 0);
    fs.closeSync(2);
    restore(fs, saved, flags);
    const rest = withoutDawnNotices(buf.toString('utf8'));
    if (rest) fs.writeSync(2, rest);
  }
}

/** Puts the original stderr back at fd 2 (the lowest free descriptor) and closes the saved copy. */
function restore(fs: Fs, saved: number, flags: number): void {
  const original = `/proc/self/fd/${saved}`;
  try {
    // A pipe whose reader has gone would block a plain open forever: probe without blocking first.
    fs.closeSync(fs.openSync(original, flags | fs.constants.O_NONBLOCK));
    fs.openSync(original, flags);
  } catch {
    fs.openSync('/dev/null', 'w'); // its reader went away: writes had nowhere to go anyway
  } finally {
    fs.closeSync(saved);
  }
}

/** The flags that reopen fd 2 as an equivalent file, or null when a reopen would not be one. */
function reopenFlags(fs: Fs): number | null {
  try {
    const st = fs.fstatSync(2);
    const info = fs.readFileSync('/proc/self/fdinfo/2', 'utf8');
    const flags = parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? '', 8);
    const { O_WRONLY, O_APPEND, O_NONBLOCK, O_NOCTTY } = fs.constants;
    if (Number.isNaN(flags) || !(st.isCharacterDevice() || st.isFIFO() || (st.isFile() && flags & O_APPEND))) return null;
    return O_WRONLY | O_NOCTTY | (flags & (O_APPEND | O_NONBLOCK));
  } catch {
    return null;
  }
}

/** node:fs where this is Node on Linux (without a static import that bundlers would follow). */
function nodeFs(): Fs | undefined {
  if (typeof process === 'undefined' || process.platform !== 'linux' || typeof process.getBuiltinModule !== 'function') return undefined;
  return process.getBuiltinModule('node:fs') as Fs;
}
