/**
 * Bumped on any incompatible change to the socket.io or HTTP wire format; checked at `hello`.
 * 2: int8 scales are bfloat16. 3: secure aggregation's self-masks and their shares.
 */
export const PROTOCOL_VERSION = 3;
