// Types of build.mjs, for the tests that import it.
export declare const ENTRIES: Record<'main' | 'post' | 'cli', string>
export declare const COMMONJS_PRELUDE: string
export declare function bundle(entry: string, outDir: string): Promise<string[]>
