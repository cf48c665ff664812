/** Bumped on any incompatible change to the socket.io or HTTP wire format; checked at `hello`. */
export const PROTOCOL_VERSION = 1;
