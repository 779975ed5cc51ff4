"use strict";
/**
 * Runs a Node.js script in this process and prints its peak memory when it exits, so that the
 * bench needs no external `time` command: node bench/measure.cjs <script> [args...]
 */
const path = require("node:path");

const [script, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], path.resolve(script), ...args];
process.on("exit", () => {
    process.stderr.write(`\nMEASURE ${JSON.stringify({ maxRssKB: process.resourceUsage().maxRSS })}\n`);
});
require(path.resolve(script));
