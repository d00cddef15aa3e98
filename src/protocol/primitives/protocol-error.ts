// The single error type protocol decoders throw. Anything else escaping a decoder is a bug.
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}
