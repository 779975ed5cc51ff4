import { loadStackConfig } from "./stacks/config";
import { buildPlatform, stackOutputs, type StackOutputs } from "./stacks/platform";

/**
 * The program: config is read and validated first (a bad config creates nothing), then the
 * platform is built. Exported as a function so the Pulumi host and the mock runner both run it.
 */
export = (): StackOutputs => stackOutputs(buildPlatform(loadStackConfig()));
