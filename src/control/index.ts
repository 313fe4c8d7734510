/** vpp-exporter's REST control API: interfaces and routes, authenticated, rate-limited, audited. */
export { startControlApi, buildControlApp, routeAddParams, AUDIT_MAX_ROUTES, type ControlApi, type ControlApp, type StartControlApiOptions } from './server.js';
export { AuditRejectedError, MemoryAuditSink, configActionAuditSink, logAuditSink, teeAuditSink, type AuditRecord, type AuditSink } from './audit.js';
export { ControlAuth, TokenAuth, loadToken, validateToken, TOKEN_ENV, MIN_TOKEN_LENGTH, type AuthResult } from './auth.js';
export { HttpError, errorAnswer, vppStatus, type ErrorAnswer } from './errors.js';
export { controlOptionsFromConfig, CONTROL_DEFAULTS, CONTROL_OPTION_SPECS, type ControlOptions } from './options.js';
export { RateLimiter, type RateDecision, type RateLimitOptions } from './rate-limit.js';
export { readInterfaceCounters, type CounterTable, type Counters } from './counters.js';
export {
  ControlService,
  PATH_TYPES,
  PROGRAMMABLE_PATH_TYPES,
  checkTable,
  parseTableParam,
  type FailedRoute,
  type InterfaceChange,
  type InterfaceChangeResult,
  type InterfaceView,
  type PathInput,
  type PathTypeName,
  type PathView,
  type ProgramResult,
  type ResolvedRoute,
  type RouteInput,
  type RouteView,
  type VppApi,
} from './service.js';
export * from './prefix.js';
