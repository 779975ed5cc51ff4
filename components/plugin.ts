// The entry of the component package (components/package.json `main`, PulumiPlugin.yaml): what
// `pulumi package add` runs, and what a TypeScript program gets from the package. The stack
// program imports ./index instead and does not pay for the import below.

// Registers the `kubernetes` resource package, so that a provider another program passes in
// (`clusters.<key>.kubernetesProvider`) is rebuilt as a `kubernetes.Provider` when the plugin
// host deserializes the inputs (@pulumi/pulumi runtime/rpc.js deserializeProperty: without a
// registered package a provider reference turns into its ID string).
import "@pulumi/kubernetes";

export * from "./index";
