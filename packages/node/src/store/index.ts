// Public surface of store/: an explicit list of named exports. The compliance
// suite (compliance.ts) and the crash-test fixtures are deliberately absent.
export { AbstractStore } from "./abstract-store.js";
export { BACKUP_FORMAT, readBackup, restoreBackup, verifyBackup, writeBackup, writeBackupInto } from "./backup.js";
export type { BackupInfo, ReadBackupHooks, WrittenBackup } from "./backup.js";
export type { NormalizedRange } from "./abstract-store.js";
export { compareBytes, prefixEnd } from "./bytes.js";
export { Collection } from "./collection.js";
export type { Leading, PartValues, PrefixRange } from "./collection.js";
export { DEFAULT_GROUP_COMMIT_OPTIONS, GroupCommitter, combineHooks } from "./group-committer.js";
export type { GroupCommitOptions, GroupCommitStats } from "./group-committer.js";
export { bytesPart, stringPart, u32Part, u64Part } from "./key-encoding.js";
export type { KeyPart } from "./key-encoding.js";
export { collectionOf, storeKeys } from "./keys.js";
export type { CollectionName } from "./keys.js";
export { DEFAULT_CACHE_SIZE, DEFAULT_WRITE_BUFFER_SIZE, LevelStore, openLevelStore } from "./level-store.js";
export type { LevelStoreOptions } from "./level-store.js";
export { MemoryStore } from "./memory-store.js";
export type { BatchOp, IterateOptions, Store, StoreCapabilities, StoreEntry, StoreStatus } from "./types.js";
