// Public surface of identifiers/: an explicit list of named exports.
export type { IdIssue, IdInvalid, IdValid, IdValidation, IdentifierKind } from "./types.js";
export {
  REGION_TABLE_SOURCE,
  assertRegionCode,
  provinceOf,
  regionName,
  validateRegionCode,
  type RegionEntry,
  type RegionParts,
} from "./region.js";
export { NODE_ID_MAX_LENGTH, NODE_ID_PATTERN, assertNodeId, validateNodeId, type NodeIdParts } from "./node-id.js";
export {
  USCC_ALPHABET,
  USCC_CENTRAL_REGION,
  assertUscc,
  usccCheckCharacter,
  validateUscc,
  type UsccOptions,
  type UsccParts,
} from "./uscc.js";
export { organizationCodeCheck } from "./organization-code.js";
export { assertCitizenId, validateCitizenId, type CitizenIdOptions, type CitizenIdParts } from "./citizen-id.js";
export { maskPersonalId } from "./mask.js";
export {
  assertBasicCode,
  assertCaseNumber,
  assertHandlingItemCode,
  assertImplementationCode,
  validateBasicCode,
  validateCaseNumber,
  validateHandlingItemCode,
  validateImplementationCode,
  type BasicCodeParts,
  type CaseNumberOptions,
  type CaseNumberParts,
  type HandlingItemCodeParts,
  type ImplementationCodeParts,
} from "./service-item.js";
export {
  LICENSE_ROOT,
  LICENSE_SERIAL_MAX_LENGTH,
  assertLicenseId,
  computeLicenseCheck,
  formatLicenseId,
  validateLicenseId,
  type LicenseIdFields,
  type LicenseIdParts,
} from "./license-id.js";
export { assertMessageId, newMessageId, validateMessageId, type MessageIdParts } from "./message-id.js";
export {
  IDENTIFIER_KINDS,
  detectIdentifier,
  isIdentifierKind,
  validateIdentifier,
  type AnyIdValidation,
  type IdentifierPartsMap,
  type UnknownIdValidation,
} from "./detect.js";
