import { readdirSync } from "node:fs";
import * as path from "node:path";

/** The repository root. */
export const ROOT = path.resolve(__dirname, "..");

const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;

/** Folders that are never product code: the tests and their helpers, what is built or installed. */
const NOT_PRODUCT = [
    "test",
    "testing",
    "node_modules",
    ".git",
    ".tools",
    "bin",
    ".pulumi",
    "bench/.build",
    // The deliberately naive baseline the bench compares against, outside the project (eslint ignores it too).
    "bench/naive",
];

/**
 * The TypeScript and JavaScript source files of the product (everything but the folders above),
 * relative to the root, with `/` separators; `except` leaves out more folders or files.
 */
export function productFiles(except: readonly string[] = []): string[] {
    const skipped = new Set([...NOT_PRODUCT, ...except].map((entry) => path.join(ROOT, entry)));
    const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
            const full = path.join(dir, entry.name);
            if (skipped.has(full)) {
                return [];
            }
            if (entry.isDirectory()) {
                return walk(full);
            }
            return SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path.relative(ROOT, full).split(path.sep).join("/")] : [];
        });
    return walk(ROOT);
}
