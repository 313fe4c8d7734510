/**
 * The REST control API (DESIGN.md "REST control API"): fastify on its own listener, 127.0.0.1:9483
 * by default. Safe by default:
 *
 * - credentials (bearer token or web-config basic auth) on every mutating route and, unless
 *   control.public-reads, on reads; none configured means 401 everywhere that needs them, and a
 *   non-loopback listen address is refused (ConfigError: exit 2);
 * - TLS from the same web config as /metrics; no CORS headers; no command pass-through;
 * - a token bucket per client IP (429), a body limit (413), header/request/keep-alive timeouts;
 * - every error is JSON {error, message}, never a stack trace;
 * - every authenticated call to a mutating route writes one audit record, awaited before the
 *   answer (validation failures included, with retval null).
 *
 *   const api = await startControlApi({ config, vpp, stats, audit, log });
 *   // api.url === 'http://127.0.0.1:9483'
 *   await api.close();
 */
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import swagger from '@fastify/swagger';
import { fastify, LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifySchemaValidationError } from 'fastify';
import { ConfigError, type Config } from '../config.js';
import { logger as rootLogger, type Logger } from '../log.js';
import type { StatsClient } from '../stats/index.js';
import { loadWebConfig, type WebConfig } from '../web/web-config.js';
import type { AuditSink } from './audit.js';
import { ControlAuth, loadToken, TOKEN_ENV, validateToken } from './auth.js';
import { auditRetval, errorAnswer, errorMessage, HttpError, type ErrorAnswer } from './errors.js';
import { controlOptionsFromConfig, type ControlOptions } from './options.js';
import { isLoopbackHost } from './prefix.js';
import { RateLimiter } from './rate-limit.js';
import { routeSchemas, SHARED_SCHEMAS } from './schemas.js';
import { ControlService, parseTableParam, type InterfaceChange, type ProgramResult, type RouteInput, type VppApi } from './service.js';

type AuthLevel = 'none' | 'read' | 'write';

/** The fastify instance of the control API (plain http.Server type; TLS sockets behave the same). */
export type ControlApp = FastifyInstance<http.Server, http.IncomingMessage, http.ServerResponse, Logger>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, once authenticated ("token:1a2b3c4d", "basic:alice"). */
    principal: string | null;
    /** Whether this request's audit record was written. */
    audited: boolean;
  }
  interface FastifyContextConfig {
    auth?: AuthLevel;
    /** Set on mutating routes: the audit record's action. */
    action?: string;
  }
}

export interface StartControlApiOptions {
  config: Config;
  vpp: VppApi;
  /** Interface counters come from here; without it GET /interfaces has counters null. */
  stats?: StatsClient;
  audit: AuditSink;
  log?: Logger;
  /** Where VPP_EXPORTER_CONTROL_TOKEN is read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A token given directly (the demo's random one), instead of the token file or environment. */
  token?: string;
  /** The web config, when the caller loaded it already (else read from web.config.file). */
  web?: WebConfig;
  /** Overrides of what the config says (tests). */
  options?: Partial<ControlOptions>;
}

export interface ControlApi {
  readonly app: ControlApp;
  /** Base URL, e.g. http://127.0.0.1:9483 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Which credentials are accepted. */
  readonly auth: { readonly token: boolean; readonly basic: boolean };
  close(): Promise<void>;
}

const SECURITY: { [scheme: string]: readonly string[] }[] = [{ bearerAuth: [] }, { basicAuth: [] }];
/** In an audit record a batch lists at most this many routes (the rest is counted and hashed). */
export const AUDIT_MAX_ROUTES = 100;
/** A 400 for an invalid batch lists at most this many of its routes. */
const MAX_LISTED_INVALID = 1000;

/** The audit params of POST /routes: small bodies whole, big batches summarised. */
export function routeAddParams(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('routes' in body) || !Array.isArray(body.routes)) return body ?? null;
  const routes: unknown[] = body.routes;
  if (routes.length <= AUDIT_MAX_ROUTES) return { count: routes.length, routes };
  return {
    count: routes.length,
    routes: routes.slice(0, AUDIT_MAX_ROUTES),
    truncated: true,
    sha256: crypto.createHash('sha256').update(JSON.stringify(routes)).digest('hex'),
  };
}

function paramsFor(action: string, req: FastifyRequest): unknown {
  const params = (req.params ?? {}) as Record<string, unknown>;
  const query = (req.query ?? {}) as Record<string, unknown>;
  switch (action) {
    case 'route.add':
      return routeAddParams(req.body);
    case 'route.delete':
      return {
        prefix: params.prefix ?? (typeof params.address === 'string' && typeof params.len === 'string' ? `${params.address}/${params.len}` : null),
        table: typeof query.table === 'string' && /^(?:0|[1-9][0-9]{0,9})$/.test(query.table) ? Number(query.table) : (query.table ?? 0),
      };
    case 'interface.set':
      return { name: params.name ?? null, ...(typeof req.body === 'object' && req.body !== null ? req.body : {}) };
    default:
      return { params, query };
  }
}

/** A readable sentence out of ajv's errors: the deepest one, with what it names. */
function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const useful = errors.filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword));
  const pick = (useful.length > 0 ? useful : errors).reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a));
  const params = pick.params;
  let detail = pick.message ?? 'is invalid';
  if (pick.keyword === 'additionalProperties') detail = `has an unknown field ${JSON.stringify(params.additionalProperty)}`;
  if (pick.keyword === 'enum' && Array.isArray(params.allowedValues)) detail = `must be one of ${params.allowedValues.map(String).join(', ')}`;
  const where = `${dataVar}${pick.instancePath.replaceAll('/', '.')}`;
  return new Error(`${where} ${detail}`);
}

/** The answer for fastify's own errors (validation, body parsing, limits); ours via errorAnswer. */
function answerFor(e: unknown): ErrorAnswer {
  if (e instanceof HttpError) return errorAnswer(e);
  const fe = e as Partial<FastifyError>;
  if (fe.validation) return { status: 400, body: { error: 'bad_request', message: fe.message ?? 'invalid request' } };
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: 'payload_too_large', message: 'the request body is larger than the limit (control.body-limit)' } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { error: 'unsupported_media_type', message: 'send the body as application/json' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: { error: 'bad_request', message: 'the JSON body is empty' } };
    case 'FST_ERR_HANDLER_TIMEOUT':
      return { status: 503, body: { error: 'timeout', message: 'the request took too long' } };
    default:
      break;
  }
  if (e instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return { status: 400, body: { error: 'bad_request', message: 'the body is not valid JSON' } };
  }
  // fastify's and Node's own client errors (a bad URL, a body the client aborted, ...).
  if (!(e instanceof HttpError) && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: fe.statusCode === 413 ? 'payload_too_large' : 'bad_request', message: fe.message ?? 'bad request' } };
  }
  return errorAnswer(e);
}

interface AppDeps {
  service: ControlService;
  auth: ControlAuth;
  audit: AuditSink;
  limiter: RateLimiter;
  opts: ControlOptions;
  web: WebConfig | undefined;
  log: Logger;
}

function createServer(web: WebConfig | undefined, o: ControlOptions, handler: http.RequestListener): http.Server {
  const timeouts: http.ServerOptions = {
    headersTimeout: o.headersTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    keepAliveTimeout: o.keepAliveTimeoutMs,
    // How often Node checks the two timeouts above (default 30 s: too coarse for a 10 s limit).
    connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs),
  };
  if (!web?.tls) return http.createServer(timeouts, handler);
  const server = https.createServer(
    {
      ...timeouts,
      cert: web.tls.cert,
      key: web.tls.key,
      ...(web.tls.ca ? { ca: web.tls.ca } : {}),
      minVersion: web.tls.minVersion,
      maxVersion: web.tls.maxVersion,
      requestCert: web.tls.requestCert,
      rejectUnauthorized: web.tls.rejectUnauthorized,
    },
    handler,
  );
  // https.Server is an http.Server on TLS sockets; fastify only needs the http.Server surface.
  return server;
}

/** Builds the fastify app (not listening): what startControlApi serves, and what tests inject into. */
export async function buildControlApp(d: AppDeps): Promise<ControlApp> {
  const { service, auth, audit, limiter, opts, web, log } = d;
  const app = fastify({
    loggerInstance: log,
    serverFactory: (handler) => createServer(web, opts, handler),
    bodyLimit: opts.bodyLimit,
    routerOptions: { maxParamLength: 512 },
    genReqId: () => crypto.randomUUID(),
    // Our own onResponse line instead (debug for reads, info for mutations).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    forceCloseConnections: true,
    return503OnClosing: true,
    trustProxy: false,
    exposeHeadRoutes: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    schemaErrorFormatter: formatSchemaErrors,
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('audited', false);
  for (const s of SHARED_SCHEMAS) app.addSchema(s);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'vpp-exporter control API',
        version: '1',
        description: 'Interfaces and routes of a VPP instance. Errors are {error, message}. See docs/control-api.md.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: `token from --control.token-file or ${TOKEN_ENV}` },
          basicAuth: { type: 'http', scheme: 'basic', description: 'basic_auth_users of --web.config.file' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  const extraHeaders = web?.headers ?? {};

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    for (const [k, v] of Object.entries(extraHeaders)) reply.header(k, v);
    const rate = limiter.take(req.ip);
    if (!rate.ok) {
      reply.header('retry-after', String(rate.retryAfterSeconds));
      throw new HttpError(429, 'too_many_requests', `rate limit exceeded; retry after ${rate.retryAfterSeconds} s`);
    }
    const level = req.routeOptions.config.auth ?? 'none';
    if (level === 'none' || (level === 'read' && opts.publicReads)) return;
    const r = await auth.check(req.headers.authorization);
    if (!r.ok) {
      reply.header('www-authenticate', auth.challenge);
      throw new HttpError(401, 'unauthorized', r.reason);
    }
    req.principal = r.principal;
  });

  app.addHook('onResponse', async (req, reply) => {
    const action = req.routeOptions.config.action;
    const line = { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, principal: req.principal, ip: req.ip };
    if (action !== undefined && req.principal !== null) req.log.info(line, `control ${action}`);
    else req.log.debug(line, 'control request');
  });

  /** Writes the audit record of a mutating request that failed before or in its handler. */
  const auditFailure = async (req: FastifyRequest, reply: FastifyReply, e: unknown, ans: ErrorAnswer): Promise<void> => {
    const action = req.routeOptions.config.action;
    if (action === undefined || req.principal === null || req.audited) return;
    req.audited = true;
    await audit.record({
      action,
      params: paramsFor(action, req),
      principal: req.principal,
      retval: auditRetval(e),
      error: ans.body.message,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      requestId: req.id,
    });
  };

  app.setErrorHandler(async (e: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const ans = answerFor(e);
    if (ans.status >= 500 && ans.body.error === 'internal') req.log.error({ err: e }, 'control API request failed');
    try {
      await auditFailure(req, reply, e, ans);
    } catch (auditError) {
      req.log.error({ err: auditError }, 'audit record could not be written');
      return reply
        .code(500)
        .type('application/json')
        .send({ error: 'audit_failed', message: `the audit record could not be written; the request failed: ${ans.body.message}` });
    }
    return reply.code(ans.status).type('application/json').send(ans.body);
  });

  app.setNotFoundHandler(async (req, reply) => {
    return reply.code(404).type('application/json').send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  /**
   * Runs a mutating action and writes its audit record before the answer. `outcome` turns a
   * result into the record's retval and error (a batch with failures).
   */
  async function audited<T>(
    req: FastifyRequest,
    action: string,
    run: () => Promise<T>,
    outcome: (r: T) => { retval: number | null; error: string | null } = () => ({ retval: 0, error: null }),
  ): Promise<T> {
    const began = performance.now();
    let result: T;
    try {
      result = await run();
    } catch (e) {
      req.audited = true;
      const ans = answerFor(e);
      try {
        await audit.record({
          action,
          params: paramsFor(action, req),
          principal: req.principal,
          retval: auditRetval(e),
          error: errorMessage(e),
          durationMs: Math.round((performance.now() - began) * 1000) / 1000,
          requestId: req.id,
        });
      } catch (auditError) {
        req.log.error({ err: auditError }, 'audit record could not be written');
        throw new HttpError(500, 'audit_failed', `the audit record could not be written; the request failed: ${ans.body.message}`);
      }
      throw e;
    }
    req.audited = true;
    const o = outcome(result);
    try {
      await audit.record({
        action,
        params: paramsFor(action, req),
        principal: req.principal,
        retval: o.retval,
        error: o.error,
        durationMs: Math.round((performance.now() - began) * 1000) / 1000,
        requestId: req.id,
      });
    } catch (auditError) {
      req.log.error({ err: auditError }, 'audit record could not be written');
      throw new HttpError(500, 'audit_failed', 'the change was made, but its audit record could not be written', {
        result: result as unknown,
      });
    }
    return result;
  }

  // --- health ---------------------------------------------------------------------------------

  app.get('/healthz', { schema: routeSchemas.healthz, config: { auth: 'none' } }, () => Promise.resolve({ status: 'ok' }));

  app.get('/readyz', { schema: routeSchemas.readyz, config: { auth: 'none' } }, async (_req, reply) => {
    const apiUp = service.vppConnected && service.vppHealth === 'up';
    const statsOk = await service.statsReadable();
    const vppApi = service.vppConnected ? (service.vppHealth === 'up' ? 'up' : 'unresponsive') : 'disconnected';
    const stats = statsOk === undefined ? 'not configured' : statsOk ? 'up' : 'unreadable';
    if (apiUp && statsOk !== false) return { status: 'ready', vpp_api: vppApi, stats };
    return reply.code(503).send({ error: 'not_ready', message: `VPP API ${vppApi}, stats ${stats}`, vpp_api: vppApi, stats });
  });

  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'none' } }, () => Promise.resolve(app.swagger()));

  // --- interfaces -----------------------------------------------------------------------------

  const read = { auth: 'read' as const };
  const security = { security: SECURITY };

  app.get('/interfaces', { schema: { ...routeSchemas.listInterfaces, ...security }, config: read }, async () => ({
    interfaces: await service.listInterfaces(),
  }));

  app.get<{ Params: { name: string } }>(
    '/interfaces/:name',
    { schema: { ...routeSchemas.getInterface, ...security }, config: read },
    async (req) => service.getInterface(req.params.name),
  );

  app.put<{ Params: { name: string }; Body: InterfaceChange }>(
    '/interfaces/:name',
    { schema: { ...routeSchemas.putInterface, ...security }, config: { auth: 'write', action: 'interface.set' } },
    async (req) => audited(req, 'interface.set', () => service.setInterface(req.params.name, req.body)),
  );

  // --- routes ---------------------------------------------------------------------------------

  app.get<{ Querystring: { table?: string; family?: 'ip4' | 'ip6' } }>(
    '/routes',
    { schema: { ...routeSchemas.listRoutes, ...security }, config: read },
    async (req) => {
      const table = parseTableParam(req.query.table);
      const family = req.query.family === 'ip4' ? 4 : req.query.family === 'ip6' ? 6 : undefined;
      return { routes: await service.listRoutes(table, family) };
    },
  );

  app.post<{ Body: RouteInput | { routes: RouteInput[] } }>(
    '/routes',
    { schema: { ...routeSchemas.postRoutes, ...security }, config: { auth: 'write', action: 'route.add' } },
    async (req) => {
      const body = req.body;
      const batch = 'routes' in body;
      const list = batch ? body.routes : [body];
      return audited(
        req,
        'route.add',
        async (): Promise<ProgramResult> => {
          const { resolved, invalid } = await service.resolveRoutes(list);
          if (invalid.length > 0) {
            if (!batch) {
              const first = invalid[0];
              throw new HttpError(first.error === 'not_found' ? 404 : 400, first.error, first.message);
            }
            throw new HttpError(400, 'bad_request', `${invalid.length} of ${list.length} routes are invalid (the first: ${invalid[0].message}); nothing was programmed`, {
              failed: invalid.slice(0, MAX_LISTED_INVALID),
            });
          }
          if (!batch) return service.programRoute(resolved[0]);
          const result = await service.programRoutes(resolved);
          if (result.programmed === 0 && result.failed.every((f) => f.error === 'vpp_unavailable')) {
            throw new HttpError(503, 'vpp_unavailable', `no route was programmed: ${result.failed[0]?.message ?? 'VPP unavailable'}`, {
              failed: result.failed,
            });
          }
          return result;
        },
        (r) =>
          r.failed.length === 0
            ? { retval: 0, error: null }
            : { retval: r.failed[0].retval, error: `${r.failed.length} of ${r.failed.length + r.programmed} routes failed; the first: ${r.failed[0].message}` },
      );
    },
  );

  const deleteRoute = async (req: FastifyRequest<{ Querystring: { table?: string } }>, prefix: string): Promise<{ deleted: string; table: number }> =>
    audited(req, 'route.delete', async () => {
      const table = parseTableParam(req.query.table);
      const r = await service.deleteRoute(prefix, table);
      return { deleted: r.prefix, table: r.table };
    });

  app.delete<{ Params: { prefix: string }; Querystring: { table?: string } }>(
    '/routes/:prefix',
    { schema: { ...routeSchemas.deleteRoute, ...security }, config: { auth: 'write', action: 'route.delete' } },
    async (req) => deleteRoute(req, req.params.prefix),
  );

  // The same with the prefix's slash not encoded (DELETE /routes/10.1.0.0/24); not in the document.
  app.delete<{ Params: { address: string; len: string }; Querystring: { table?: string } }>(
    '/routes/:address/:len',
    {
      schema: { hide: true, querystring: routeSchemas.deleteRoute.querystring },
      config: { auth: 'write', action: 'route.delete' },
    },
    async (req) => deleteRoute(req, `${req.params.address}/${req.params.len}`),
  );

  return app;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the control API. Throws ConfigError (exit 2) for a bad token, token file or web config,
 * and for a non-loopback listen address without credentials.
 */
export async function startControlApi(o: StartControlApiOptions): Promise<ControlApi> {
  const log = o.log ?? rootLogger('control');
  const opts: ControlOptions = { ...controlOptionsFromConfig(o.config), ...o.options };
  const web = o.web ?? (opts.webConfigFile !== undefined ? loadWebConfig(opts.webConfigFile) : undefined);
  const token = o.token !== undefined ? validateToken(o.token, 'control API token') : loadToken(opts.tokenFile, o.env ?? process.env, log);
  const auth = new ControlAuth(token, web?.users ?? new Map<string, string>());
  const { host, port } = opts.listen;
  const loopback = host !== '' && isLoopbackHost(host);
  if (!loopback && !auth.configured) {
    throw new ConfigError(
      `--control.listen-address ${formatHost(host === '' ? '*' : host)}:${port} is not a loopback address and the control API has no credentials ` +
        `configured (--control.token-file, ${TOKEN_ENV}, or basic_auth_users in --web.config.file); refusing to start`,
    );
  }
  if (!auth.configured) log.warn(`control API: no credentials configured; requests that need them are refused (set --control.token-file or ${TOKEN_ENV})`);
  if (!loopback && !web?.tls) log.warn('control API: listening beyond loopback without TLS; credentials cross the network in clear text');
  if (opts.rateLimit > 0 && opts.rateBurst < 1) throw new ConfigError('--control.rate-burst must be at least 1');
  const limiter = new RateLimiter({ rate: opts.rateLimit, burst: opts.rateBurst });
  const service = new ControlService(o.vpp, o.stats);
  const app = await buildControlApp({ service, auth, audit: o.audit, limiter, opts, web, log });
  const listenHost = host === '' ? '::' : host;
  try {
    await app.listen({ host: listenHost, port });
  } catch (e) {
    if (host === '' && (e as NodeJS.ErrnoException).code === 'EAFNOSUPPORT') await app.listen({ host: '0.0.0.0', port });
    else {
      await app.close();
      throw e;
    }
  }
  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr !== null ? addr.port : port;
  const shownHost = host === '' ? 'localhost' : formatHost(host);
  const tls = web?.tls !== undefined;
  const url = `${tls ? 'https' : 'http'}://${shownHost}:${boundPort}`;
  log.info({ url, auth: auth.schemes, publicReads: opts.publicReads, rateLimit: opts.rateLimit }, 'control API listening');
  return {
    app,
    url,
    host,
    port: boundPort,
    tls,
    auth: { token: token !== undefined, basic: (web?.users.size ?? 0) > 0 },
    close: () => app.close(),
  };
}
