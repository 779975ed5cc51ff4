import * as sdk from "@pulumi/policy";

/**
 * Two runtime exports of @pulumi/policy whose typings its build strips (they are `@internal`):
 * the proxy CrossGuard wraps properties in, which throws on a value unknown during preview, and
 * the error it throws. The rules catch that error; the offline runner builds the same proxies.
 */
interface ProxyApi {
    unknownCheckingProxy: <T extends object>(value: T) => T;
    UnknownValueError: new (...args: never[]) => Error;
}

const api = sdk as unknown as ProxyApi;

export const unknownCheckingProxy: ProxyApi["unknownCheckingProxy"] = api.unknownCheckingProxy;
export const UnknownValueError: ProxyApi["UnknownValueError"] = api.UnknownValueError;
