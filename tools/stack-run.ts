import * as fs from "node:fs";
import * as path from "node:path";
import { loadStackFile, runStack, stackFilePath, type RunResult } from "../testing/mock-runner";

/**
 * What the command-line tools share: `--stack NAME` or `--config FILE` to a mock run of the
 * program, and how they fail.
 */

export function fail(message: string, code: number): never {
    process.stderr.write(`${message}\n`);
    process.exit(code);
}

/** The stack config file and stack name that `--stack`/`--config` select; exits 2 when neither does. */
export function selectStack(values: { stack?: string; config?: string }, usage: string): { file: string; stack: string } {
    const file = values.config ?? (values.stack === undefined ? undefined : stackFilePath(values.stack));
    if (file === undefined) {
        fail(`Give --stack NAME or --config FILE.\n\n${usage}`, 2);
    }
    if (!fs.existsSync(file)) {
        fail(`No stack config file ${file}.`, 2);
    }
    return { file, stack: values.stack ?? /^Pulumi\.(.+)\.yaml$/.exec(path.basename(file))?.[1] ?? "plan" };
}

/** Runs the program under mocks for that stack; an invalid config prints its problems and exits 1. */
export async function runSelectedStack(file: string, stack: string): Promise<RunResult> {
    try {
        return await runStack({ stack, config: loadStackFile(file) });
    } catch (error) {
        fail(error instanceof Error ? error.message : String(error), 1);
    }
}
