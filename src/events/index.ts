/** Link events and config-action records, onto the event sink (src/sink/). */
export { LinkEvents, startLinkEvents, transitions, transientState, waitForUpEvent, asLinkEventSource, type LinkEventSource, type LinkEventsOptions, type LinkEventsStats, type LinkHint, type LinkTransition } from './link-events.js';
export { LinkStateStore, SEQ_BLOCK, type LinkState, type LinkStateStoreOptions } from './link-state.js';
export { createConfigActionRecorder, type ConfigAction, type ConfigActionRecorderOptions, type RecordConfigAction, type RecordResult } from './config-actions.js';
export { uuidv7, UUID_V7_PATTERN } from './ids.js';
export type { ConfigActionData, InterfaceSnapshot, InterfaceStateData, LinkChange, LinkEventData, LinkReason } from './types.js';
