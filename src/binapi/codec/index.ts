/** The binary API codec: big-endian encoder/decoder, its error class, message descriptors. */
export { Encoder } from './encoder.js';
export { Decoder, readMsgId } from './decoder.js';
export { CodecError, CODEC_ERROR_CODES, isCodecError, type CodecErrorCode } from './errors.js';
export type { MessageDescriptor, ServiceDescriptor } from './message.js';
