/**
 * A local OTLP metrics receiver that only drains requests (bench/otlp.ts runs it as a child
 * process, so that what it costs is not counted as the exporter's): OTLP/HTTP on POST (any
 * path) and OTLP/gRPC MetricsService/Export, each answered with an empty
 * ExportMetricsServiceResponse. No message size limit, so that one unsplit SDK request fits.
 * Prints {"http": port, "grpc": port} on its first stdout line; exits when stdin closes.
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { RAW_METRICS_SERVICE } from '../src/exporters/otlp-transport.js';

const httpServer = http.createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
    res.end();
  });
});
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));

const grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': -1 });
grpcServer.addService(RAW_METRICS_SERVICE, {
  Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, Buffer.alloc(0)),
});
const grpcPort = await new Promise<number>((resolve, reject) =>
  grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
);

const addr = httpServer.address();
process.stdout.write(JSON.stringify({ http: typeof addr === 'object' && addr ? addr.port : 0, grpc: grpcPort }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
