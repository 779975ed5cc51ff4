/** The graph queries moved to offline/graph.ts (product code uses them); this path stays for the tests. */
export * from "../offline/graph";
