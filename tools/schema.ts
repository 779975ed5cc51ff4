// npm run schema [-- --check]: writes components/schema.json from Pulumi's component analyzer,
// or with --check exits 1 when the committed copy is stale.
import * as fs from "node:fs";
import { runCli, usageError } from "./cli";
import { COMMITTED_SCHEMA, deriveSchema } from "../components/package-schema";

const USAGE = `Usage: npm run schema -- [--check]

Derives the component package's schema with Pulumi's own analyzer (ComponentProvider.getSchema)
and writes it to components/schema.json.
  --check   write nothing; exit 1 when components/schema.json differs from the derived schema
Exit codes: 0 written or up to date, 1 stale (--check) or the analyzer refused the package, 2 usage error.`;

runCli(USAGE, async () => {
    const argv = process.argv.slice(2);
    if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const unknown = argv.filter((arg) => arg !== "--check");
    if (unknown.length > 0) {
        usageError(`unknown argument ${unknown[0]}`);
    }
    const derived = await deriveSchema();
    if (argv.includes("--check")) {
        const committed = fs.existsSync(COMMITTED_SCHEMA) ? fs.readFileSync(COMMITTED_SCHEMA, "utf8") : "";
        if (committed !== derived) {
            process.stderr.write("components/schema.json is stale: run `npm run schema` and commit it.\n");
            process.exitCode = 1;
            return;
        }
        process.stdout.write("components/schema.json is up to date.\n");
        return;
    }
    fs.writeFileSync(COMMITTED_SCHEMA, derived);
    process.stdout.write(`wrote ${COMMITTED_SCHEMA}\n`);
});
