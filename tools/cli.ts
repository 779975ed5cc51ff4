/**
 * How the command-line tools start, fail and end, in one place:
 * - a usage error is one line on stderr and exit 2, pointing at `--help`, never a stack trace;
 * - an expected failure (a config with problems, an unreadable file) prints its message and exits
 *   with its own code;
 * - anything unexpected prints its message in one line and exits 1; the stack trace only with
 *   AKSWI_DEBUG=1;
 * - when the reader of standard output goes away (`| head`), the tool stops quietly with exit 0:
 *   Node.js ignores SIGPIPE, so without this a closed pipe is an unhandled EPIPE with a stack trace.
 *
 * Light on purpose (no Pulumi import), so a tool can fail fast before it loads the program.
 */

/** Set to 1 to print the stack trace of an unexpected error. */
export const DEBUG_ENV = "AKSWI_DEBUG";

/** A mistake in how the tool was called: reported as one line with a pointer to `--help`, exit 2. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** An expected failure whose message is already written for the user: printed as is, no stack. */
export class CliFailure extends Error {
    constructor(
        message: string,
        readonly exitCode: number,
    ) {
        super(message);
        this.name = "CliFailure";
    }
}

/** Throws a usage error (exit 2); `runCli` prints it in one line. */
export function usageError(message: string): never {
    throw new UsageError(message);
}

/** Prints `message` on stderr and exits with `code` at once. */
export function fail(message: string, code: number): never {
    process.stderr.write(`${message}\n`);
    process.exit(code);
}

/** `npm run plan` from a usage text that starts with "Usage: npm run plan -- ...". */
function commandOf(usage: string): string | undefined {
    return /^Usage: (.+?) --(?: |$)/m.exec(usage)?.[1];
}

/** A usage error as the one line the tools print: the message and where the usage is. */
export function usageLine(message: string, usage: string): string {
    const firstLine = message.split("\n")[0].trim();
    const sentence = /[.!?]$/.test(firstLine) ? firstLine : `${firstLine}.`;
    const command = commandOf(usage);
    return `${sentence} See ${command === undefined ? "--help" : `${command} -- --help`}.`;
}

/** Prints a usage error in one line and exits 2. */
export function failUsage(message: string, usage: string): never {
    fail(usageLine(message, usage), 2);
}

/** An unexpected error in one line, or with its stack trace when AKSWI_DEBUG=1. */
export function describeUnexpected(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
    if (!(error instanceof Error)) {
        return String(error);
    }
    if (env[DEBUG_ENV] === "1" && error.stack !== undefined) {
        return error.stack;
    }
    const message = error.message.split("\n")[0];
    return `${error.name}: ${message} (${DEBUG_ENV}=1 prints the stack trace)`;
}

function isClosedPipe(error: unknown): boolean {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    return code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
}

/**
 * Ends the process quietly with exit 0 when standard output's reader has gone (EPIPE): the reader
 * chose to stop, which is no failure of the tool. (A process killed by SIGPIPE exits 141, which
 * `set -o pipefail` in a pipeline step would turn into a failed step.) A closed stderr is ignored.
 * Idempotent.
 */
export function exitQuietlyOnClosedPipe(): void {
    if (installed) {
        return;
    }
    installed = true;
    process.stdout.on("error", (error) => {
        if (isClosedPipe(error)) {
            process.exit(0);
        }
        throw error;
    });
    process.stderr.on("error", (error) => {
        if (!isClosedPipe(error)) {
            throw error;
        }
    });
}
let installed = false;

export interface RunCliOptions {
    /**
     * The exit code of an unexpected error.
     * Default: 1.
     */
    readonly unexpectedExitCode?: number;
}

/**
 * Runs a tool's `main` with the conventions above. `usage` is the tool's `--help` text (its first
 * line names the command for the pointer in usage errors).
 */
export function runCli(usage: string, main: () => Promise<void>, options: RunCliOptions = {}): void {
    exitQuietlyOnClosedPipe();
    main().catch((error: unknown) => {
        if (error instanceof UsageError) {
            failUsage(error.message, usage);
        }
        if (error instanceof CliFailure) {
            fail(error.message, error.exitCode);
        }
        fail(describeUnexpected(error), options.unexpectedExitCode ?? 1);
    });
}
