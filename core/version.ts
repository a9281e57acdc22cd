/** Recondo's release, reported by `serve`, fleet heartbeats and `/metrics`. */
export const RECONDO_VERSION = "0.3.0";
