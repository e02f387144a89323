/**
 * The interop runner's seam: one handler table per family (`notation`, `cosign`, `atproto`, …),
 * keyed by case `kind`. A handler runs one case through the library and says what happened;
 * the runner compares that with the case's expectation.
 */

/** One case of a `cases.json` (fields beyond these are the family's own). */
export interface InteropCase {
  readonly id: string;
  readonly kind: string;
  readonly expect: {
    readonly verified?: boolean;
    readonly valid?: boolean;
    readonly loads?: boolean;
    readonly reason?: string;
    readonly acceptableReasons?: readonly string[];
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

/** The whole `cases.json` document. */
export interface InteropSuite {
  readonly family: string;
  readonly cases: readonly InteropCase[];
  readonly [key: string]: unknown;
}

/** What a handler observed: did it verify (or load / validate), and the failure class. */
export interface CaseResult {
  readonly verified: boolean;
  /** The failure class in the vocabulary of the family's README (`ok` on success). */
  readonly reason: string;
  /** Free text for the person reading the output (error message, …). */
  readonly detail?: string;
}

export interface CaseEnv {
  /** The folder holding cases.json; case file paths are relative to it. */
  readonly dir: string;
  readonly suite: InteropSuite;
}

export type CaseHandler = (testCase: InteropCase, env: CaseEnv) => Promise<CaseResult>;

export interface FamilyHandlers {
  readonly family: string;
  readonly handlers: Readonly<Record<string, CaseHandler>>;
  /** Overrides the default pass rule when the family's README says so. */
  readonly judge?: (testCase: InteropCase, result: CaseResult) => boolean;
}
