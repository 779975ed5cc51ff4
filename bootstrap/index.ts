import { loadBootstrapConfig } from "./config";
import { bootstrapOutputs, buildBootstrap, type BootstrapOutputs } from "./program";

/**
 * The bootstrap program, run once per subscription by a platform admin: config is read and
 * validated first (with every environment's main stack file), so a bad config creates nothing.
 * Exported as a function so the Pulumi host and the mock runner both run it.
 */
export = (): BootstrapOutputs => bootstrapOutputs(buildBootstrap(loadBootstrapConfig()));
