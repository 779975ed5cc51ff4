import * as pulumi from "@pulumi/pulumi";

/**
 * The bare SDK floor: a program that only registers BENCH_FLOOR_RESOURCES custom resources, each
 * with one plain input, so the bench can tell the SDK's own cost per resource from the program's.
 */
/** A custom resource with nothing of its own: what every provider resource class builds on. */
class Thing extends pulumi.CustomResource {
    constructor(name: string, value: number) {
        super("bench:index:Thing", name, { value });
    }
}

export = (): Record<string, never> => {
    const count = Number(process.env.BENCH_FLOOR_RESOURCES ?? "0");
    for (let i = 0; i < count; i++) {
        new Thing(`thing-${i}`, i);
    }
    return {};
};
