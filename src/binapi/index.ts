/** vpp-exporter/binapi: VPP's binary API client, its generated messages and its errors. */
export { VppClient, connectVpp, createVppClient, type VppClientOptions } from './client.js';
export {
  CONNECTION_DEFAULTS,
  type ConnectedInfo,
  type ConnectionEvents,
  type ConnectionOptions,
  type ConnectionStats,
  type DisabledMessage,
  type DisconnectedInfo,
  type HealthInfo,
  type HealthState,
  type SendOptions,
} from './connection.js';
export type { BatchOptions, BatchResult, BatchSource, BatchValues } from './batch.js';
export { CONNECTION_ERROR_CODES, ConnectionError, isConnectionError, type ConnectionErrorCode } from './connection-error.js';
export { RETVALS, VppApiError, retvalCode, retvalMessage, retvalName, type RetvalEntry } from './errors.js';
export { CodecError, isCodecError, type CodecErrorCode } from './codec/index.js';
export { TransportError, type TransportErrorCode } from './transport.js';
export { messages, services, apiModules, type MessageName, type MessageOf } from './generated/index.js';
export type { DetailsOf, DumpName, EventName, EventOf, ReplyOf, RequestFields, RequestName, WantName } from './types.js';
export { ADDRESS_IP4, ADDRESS_IP6, address, fibPath, formatAddress, formatPrefix, ipBytes, macAddress, prefix, type PathSpec } from './address.js';
export { IfStatusFlags } from './generated/interface_types.js';
export { AddressFamily, AddressUnion } from './generated/ip_types.js';
export { FibPathFlags, FibPathNhProto, FibPathType } from './generated/fib_types.js';
