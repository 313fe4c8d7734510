export { StatsClient, DirectoryIndex, selectAll, type Snapshot, type Selector, type StatsClientOptions } from './client.js';
export { SnapshotView, type EntryView } from './snapshot.js';
export { dumpValue, pythonJson, type DumpValue } from './dump.js';
export { StatType, statTypeName, statTypeLabel, type StatEntry } from './types.js';
