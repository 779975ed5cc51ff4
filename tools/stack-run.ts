import * as fs from "node:fs";
import * as path from "node:path";
import { loadStackFile, runStack, stackFilePath, type RunResult } from "../offline/mock-runner";
import { fail, failUsage } from "./cli";

/**
 * What the command-line tools share: `--stack NAME` or `--config FILE` to a mock run of the
 * program, and how they fail (tools/cli.ts: one-line usage errors, quiet closed pipes).
 */

export { fail };

/**
 * The stack config file and stack name that `--stack`/`--config` select; a usage error (one
 * line, exit 2) when neither does or the file does not exist.
 */
export function selectStack(values: { stack?: string; config?: string }, usage: string): { file: string; stack: string } {
    const file = values.config ?? (values.stack === undefined ? undefined : stackFilePath(values.stack));
    if (file === undefined) {
        failUsage("Give --stack NAME or --config FILE.", usage);
    }
    if (!fs.existsSync(file)) {
        failUsage(`No stack config file ${file}.`, usage);
    }
    return { file, stack: values.stack ?? /^Pulumi\.(.+)\.yaml$/.exec(path.basename(file))?.[1] ?? "plan" };
}

/**
 * Runs the program under mocks for that stack; an invalid config prints its problems and exits
 * with `failureCode` (1 unless the tool documents another).
 */
export async function runSelectedStack(file: string, stack: string, failureCode = 1): Promise<RunResult> {
    try {
        return await runStack({ stack, config: loadStackFile(file) });
    } catch (error) {
        fail(error instanceof Error ? error.message : String(error), failureCode);
    }
}
