// Public entry of @weft/hbone: the HBONE client pool and server (reference §2) over node:http2 and node:tls.
export {};
