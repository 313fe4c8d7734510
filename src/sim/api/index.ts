/**
 * The simulator's binary API side: VPP's API socket answered from the same InterfaceModel as the
 * stats segment. startApiServer() is what startStatsSimulator({apiSocketPath}) and tests call.
 */
export { startApiServer, type ApiServer, type ApiServerOptions, type ApiServerStats, type FlapOptions } from './server.js';
export { Fib, FibTable, type FibEntry, type RouteResult, RV } from './fib.js';
export { MessageTable, SOCKCLNT_CREATE_ID, SOCKCLNT_CREATE_REPLY_ID } from './message-table.js';
export { MESSAGE_TABLE, EMIT_ORDER, MODULE_RANGES } from './message-table-data.js';
export { interfaceDetails } from './handlers.js';
export { AF_IP4, AF_IP6, type Af, formatAddr, formatPrefix, parsePrefix } from './addr.js';
