import { loadStackConfig } from "./stacks/config";
import { buildPlatform, checkAdoptedClusters, stackOutputs, type StackOutputs } from "./stacks/platform";

/**
 * The program: config is read and validated, existing clusters are checked, and only then is the
 * platform built, so a bad config or an unready cluster creates nothing. Exported as a function so
 * the Pulumi host and the mock runner both run it.
 */
export = async (): Promise<StackOutputs> => {
    const config = loadStackConfig();
    const lookedUp = await checkAdoptedClusters(config);
    return stackOutputs(buildPlatform(config, lookedUp));
};
