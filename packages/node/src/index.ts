/**
 * @tongban/node — the Tongban reference node. This file is the package's
 * public surface: an explicit list of named exports.
 */
export const NODE_SOFTWARE = "tongban-node";

// store/: the ordered key-value store, its LevelDB and memory implementations, group commit and key layout.
export {
  AbstractStore,
  Collection,
  DEFAULT_GROUP_COMMIT_OPTIONS,
  GroupCommitter,
  LevelStore,
  MemoryStore,
  bytesPart,
  collectionOf,
  compareBytes,
  openLevelStore,
  prefixEnd,
  storeKeys,
  stringPart,
  u32Part,
  u64Part,
} from "./store/index.js";
export type {
  BatchOp,
  CollectionName,
  GroupCommitOptions,
  GroupCommitStats,
  IterateOptions,
  KeyPart,
  Leading,
  LevelStoreOptions,
  NormalizedRange,
  PartValues,
  PrefixRange,
  Store,
  StoreCapabilities,
  StoreEntry,
  StoreStatus,
} from "./store/index.js";
