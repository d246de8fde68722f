/**
 * Every identifier kind Tongban validates. `detectIdentifier` may also answer
 * `"unknown"` when a value has the shape of none of them.
 */
export type IdentifierKind =
  | "region"
  | "node-id"
  | "uscc"
  | "citizen-id"
  | "basic-code"
  | "implementation-code"
  | "handling-item-code"
  | "case-number"
  | "license-id"
  | "message-id";

/**
 * One thing wrong with an identifier.
 *
 * `rule` is stable and kebab-case (callers switch on it); `position` is the
 * 1-based character position in the validated value when the problem sits at
 * one character or starts at one; `message` is precise English for people.
 */
export interface IdIssue {
  readonly rule: string;
  readonly position?: number;
  readonly message: string;
}

/** A value that passed validation, with its decoded parts. */
export interface IdValid<P, K extends string = IdentifierKind> {
  readonly ok: true;
  readonly kind: K;
  readonly value: string;
  readonly parts: P;
}

/** A value that failed validation; `issues` is never empty. */
export interface IdInvalid<K extends string = IdentifierKind> {
  readonly ok: false;
  readonly kind: K;
  readonly value: string;
  readonly issues: readonly IdIssue[];
}

/**
 * The result of every `validateX` function: either the decoded parts or every
 * issue found (validators keep going after the first problem where they can,
 * so people see all of them at once).
 */
export type IdValidation<P, K extends string = IdentifierKind> = IdValid<P, K> | IdInvalid<K>;
