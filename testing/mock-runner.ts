/**
 * The mock runner moved to offline/mock-runner.ts (product code: the plan, the doctor and the bench
 * run on it). This path stays for the tests that import it; it is the same module, so runs still
 * take turns and `lastRun()` sees every run.
 */
export * from "../offline/mock-runner";
