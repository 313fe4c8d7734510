/**
 * JSON schemas of the control API: fastify validates requests with them (unknown fields are
 * refused, no type coercion in bodies), serialises answers with them, and /openapi.json is
 * generated from them. Prefix syntax is checked by prefix.ts (better messages than a regex).
 */
import { PROGRAMMABLE_PATH_TYPES, PATH_TYPES } from './service.js';

/** Most routes in one POST /routes (the body limit is the other bound). */
export const MAX_BATCH_ROUTES = 100_000;
export const MAX_PATHS = 64;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Every error: a short code and a sentence. VPP errors use VPP\'s retval name as the code and add retval.',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', examples: ['bad_request', 'unauthorized', 'not_found', 'NO_SUCH_FIB'] },
    message: { type: 'string' },
    retval: { type: 'integer', description: "VPP's retval, for VPP errors" },
  },
  additionalProperties: true,
} as const;

const errorRef = { $ref: 'Error#' } as const;

const interfaceName = { type: 'string', minLength: 1, maxLength: 256 } as const;

export const interfaceSchema = {
  $id: 'Interface',
  type: 'object',
  required: ['name', 'sw_if_index', 'admin_up', 'link_up', 'mtu', 'mac', 'addresses', 'counters'],
  properties: {
    name: { type: 'string', examples: ['loop0'] },
    sw_if_index: { type: 'integer' },
    admin_up: { type: 'boolean' },
    link_up: { type: 'boolean' },
    mtu: { type: 'integer', examples: [9000] },
    mac: { type: 'string', examples: ['de:ad:00:00:00:01'] },
    addresses: { type: 'array', items: { type: 'string', examples: ['10.0.0.1/24'] } },
    counters: {
      type: ['object', 'null'],
      description: 'From the current stats snapshot, summed over threads: rx_packets, rx_bytes, tx_packets, tx_bytes, drops, ... (one per /if/ counter); null when the stats segment cannot be read',
      additionalProperties: { type: 'number' },
    },
    dev_type: { type: 'string' },
    sup_sw_if_index: { type: 'integer' },
    link_speed: { type: 'integer', description: 'kbit/s, 0 when unknown' },
  },
} as const;

export const pathSchema = {
  $id: 'Path',
  type: 'object',
  additionalProperties: false,
  properties: {
    interface: { type: ['string', 'null'], maxLength: 256, description: 'outgoing interface by name' },
    via: { type: ['string', 'null'], maxLength: 64, description: 'next hop, IPv4 or IPv6' },
    weight: { type: 'integer', minimum: 1, maximum: 255, default: 1 },
    preference: { type: 'integer', minimum: 0, maximum: 255, default: 0 },
    type: { type: 'string', enum: [...PROGRAMMABLE_PATH_TYPES], default: 'normal' },
  },
} as const;

export const routeInSchema = {
  $id: 'RouteIn',
  type: 'object',
  required: ['prefix', 'paths'],
  additionalProperties: false,
  properties: {
    prefix: { type: 'string', maxLength: 64, description: 'network/length; host bits must be clear', examples: ['10.1.0.0/24'] },
    table: { type: 'integer', minimum: 0, maximum: 4294967295, default: 0 },
    paths: { type: 'array', minItems: 1, maxItems: MAX_PATHS, items: { $ref: 'Path#' } },
  },
} as const;

export const pathOutSchema = {
  $id: 'PathOut',
  type: 'object',
  required: ['interface', 'via', 'weight', 'preference'],
  properties: {
    interface: { type: ['string', 'null'] },
    via: { type: ['string', 'null'] },
    weight: { type: 'integer' },
    preference: { type: 'integer' },
    type: { type: 'string', enum: [...Object.keys(PATH_TYPES), 'unknown'] },
    sw_if_index: { type: ['integer', 'null'] },
  },
} as const;

export const routeOutSchema = {
  $id: 'Route',
  type: 'object',
  required: ['prefix', 'table', 'paths'],
  properties: {
    prefix: { type: 'string' },
    table: { type: 'integer' },
    paths: { type: 'array', items: { $ref: 'PathOut#' } },
    stats_index: { type: 'integer' },
  },
} as const;

export const failedRouteSchema = {
  $id: 'FailedRoute',
  type: 'object',
  required: ['route', 'error'],
  properties: {
    index: { type: 'integer', description: 'position in the request' },
    route: { type: 'object', additionalProperties: true },
    error: { type: 'string', description: "VPP's retval name, or bad_request / not_found / vpp_unavailable" },
    message: { type: 'string' },
    retval: { type: ['integer', 'null'] },
  },
} as const;

export const SHARED_SCHEMAS = [errorSchema, interfaceSchema, pathSchema, routeInSchema, pathOutSchema, routeOutSchema, failedRouteSchema];

const errors = (...codes: number[]): Record<number, typeof errorRef> => Object.fromEntries(codes.map((c) => [c, errorRef]));

export const routeSchemas = {
  healthz: {
    summary: 'Liveness: the process answers',
    tags: ['health'],
    response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
  },
  readyz: {
    summary: 'Readiness: the VPP API is connected and healthy and the stats segment is readable',
    tags: ['health'],
    response: {
      200: { type: 'object', properties: { status: { type: 'string' }, vpp_api: { type: 'string' }, stats: { type: 'string' } } },
      503: errorRef,
    },
  },
  listInterfaces: {
    summary: 'Every interface with its state, addresses and counters',
    tags: ['interfaces'],
    response: {
      200: { type: 'object', required: ['interfaces'], properties: { interfaces: { type: 'array', items: { $ref: 'Interface#' } } } },
      ...errors(401, 429, 503),
    },
  },
  getInterface: {
    summary: 'One interface by name (URL-encoded: memif1%2F0)',
    tags: ['interfaces'],
    params: { type: 'object', required: ['name'], properties: { name: interfaceName } },
    response: { 200: { $ref: 'Interface#' }, ...errors(401, 404, 429, 503) },
  },
  putInterface: {
    summary: 'Configure an interface: admin state and addresses (added; replace_addresses makes the list exact)',
    tags: ['interfaces'],
    params: { type: 'object', required: ['name'], properties: { name: interfaceName } },
    body: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        admin_up: { type: 'boolean' },
        addresses: { type: 'array', maxItems: 1024, items: { type: 'string', maxLength: 64 } },
        replace_addresses: { type: 'boolean', default: false },
      },
    },
    response: {
      200: {
        type: 'object',
        properties: {
          interface: { $ref: 'Interface#' },
          added: { type: 'array', items: { type: 'string' } },
          removed: { type: 'array', items: { type: 'string' } },
          admin_changed: { type: 'boolean' },
        },
      },
      ...errors(400, 401, 404, 409, 413, 422, 429, 503),
    },
  },
  listRoutes: {
    summary: 'The routes of a table',
    tags: ['routes'],
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        table: { type: 'string', pattern: '^(?:0|[1-9][0-9]{0,9})$', description: 'table id, default 0' },
        family: { type: 'string', enum: ['ip4', 'ip6'], description: 'only this family (default both)' },
      },
    },
    response: {
      200: { type: 'object', required: ['routes'], properties: { routes: { type: 'array', items: { $ref: 'Route#' } } } },
      ...errors(400, 401, 404, 429, 503),
    },
  },
  postRoutes: {
    summary: 'Program one route or a batch {routes: [...]}, pipelined; a route\'s paths become exactly the ones given',
    tags: ['routes'],
    body: {
      oneOf: [
        { $ref: 'RouteIn#' },
        {
          type: 'object',
          required: ['routes'],
          additionalProperties: false,
          properties: { routes: { type: 'array', minItems: 1, maxItems: MAX_BATCH_ROUTES, items: { $ref: 'RouteIn#' } } },
        },
      ],
    },
    response: {
      200: {
        type: 'object',
        required: ['programmed', 'failed', 'routes_per_second'],
        properties: {
          programmed: { type: 'integer' },
          failed: { type: 'array', items: { $ref: 'FailedRoute#' } },
          routes_per_second: { type: 'number' },
          duration_ms: { type: 'number' },
        },
      },
      ...errors(400, 401, 404, 409, 413, 422, 429, 503),
    },
  },
  deleteRoute: {
    summary: 'Delete a route (prefix URL-encoded: 10.1.0.0%2F24)',
    tags: ['routes'],
    params: { type: 'object', required: ['prefix'], properties: { prefix: { type: 'string', maxLength: 64 } } },
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { table: { type: 'string', pattern: '^(?:0|[1-9][0-9]{0,9})$', description: 'table id, default 0' } },
    },
    response: {
      200: { type: 'object', properties: { deleted: { type: 'string' }, table: { type: 'integer' } } },
      ...errors(400, 401, 422, 429, 503),
    },
  },
} as const;
